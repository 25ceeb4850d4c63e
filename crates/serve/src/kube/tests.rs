#![allow(clippy::unwrap_used)]

//! Against kube-rs's mock API server (tower-test): the rendered objects are server-side applied
//! once, as field manager `flinkops`, each apply recorded as an intent; an unchanged rendering is
//! not applied again; the operator's status becomes the observed job. A real cluster cannot run
//! here; the real-cluster test is `#[ignore]`d in crates/kube.

use std::pin::pin;

use http::{Request, Response, StatusCode};
use kube::client::Body;
use serde_json::{Value, json};

use super::*;
use flinkops_control::store::{IntentKind, SqlStore};

const FD: &str = "apiVersion: flink.apache.org/v1beta1\nkind: FlinkDeployment\nmetadata:\n  name: orders\n  namespace: flink-prod\nspec:\n  flinkVersion: v2_1\n  job:\n    jarURI: local:///opt/flink/usrlib/orders.jar\n    upgradeMode: savepoint\n";

fn env() -> KubeEnv {
    let files = std::collections::BTreeMap::from([("kubernetes/flink/orders.yaml".to_string(), FD.to_string()), ("prometheus/rules.yaml".to_string(), "groups: []\n".to_string())]);
    KubeEnv::new("prod", &files, &["orders".to_string()], None).unwrap()
}

/// Answers in order; returns (method, path, query, body) of each request.
fn server(answers: Vec<(u16, Value)>) -> (kube::Client, tokio::task::JoinHandle<Vec<(String, String, String, Value)>>) {
    let (svc, handle) = tower_test::mock::pair::<Request<Body>, Response<Body>>();
    let task = tokio::spawn(async move {
        let mut handle = pin!(handle);
        let mut seen = Vec::new();
        for (status, body) in answers {
            let Some((req, send)) = handle.next_request().await else { break };
            let (parts, b) = req.into_parts();
            let bytes = b.collect_bytes().await.unwrap();
            seen.push((
                parts.method.to_string(),
                parts.uri.path().to_string(),
                parts.uri.query().unwrap_or("").to_string(),
                if bytes.is_empty() { Value::Null } else { serde_json::from_slice(&bytes).unwrap() },
            ));
            let resp = Response::builder().status(StatusCode::from_u16(status).unwrap()).header("content-type", "application/json").body(Body::from(serde_json::to_vec(&body).unwrap())).unwrap();
            send.send_response(resp);
        }
        seen
    });
    (kube::Client::new(svc, "default"), task)
}

fn not_found() -> Value {
    json!({"kind": "Status", "apiVersion": "v1", "metadata": {}, "status": "Failure", "message": "not found", "reason": "NotFound", "code": 404})
}

fn live(status: Value) -> Value {
    json!({"apiVersion": "flink.apache.org/v1beta1", "kind": "FlinkDeployment", "metadata": {"name": "orders", "namespace": "flink-prod"}, "spec": {}, "status": status})
}

async fn shared(dir: &std::path::Path) -> std::sync::Arc<Shared> {
    let spec = dir.join("flinkops.yaml");
    std::fs::write(&spec, "platform: t\nenvironments:\n  dev:\n    target: standalone\n    restUrl: http://127.0.0.1:9\n    flinkVersion: \"2.3\"\n    metrics: {targets: [\"127.0.0.1:9249\"]}\njobs: {}\n").unwrap();
    let home = flinkops_local::home::Home::new(dir.join("home"));
    Shared::start(crate::ServeOptions {
        spec,
        store: dir.join("store").display().to_string(),
        home,
        flink_home: None,
        tick: std::time::Duration::from_secs(1),
        supervise_every: std::time::Duration::from_secs(2),
        token: None,
        kubeconfig: None,
        kube_context: None,
    })
    .await
    .unwrap()
}

#[tokio::test]
async fn applies_once_per_rendering_and_observes_the_operator_status() {
    let dir = tempfile::tempdir().unwrap();
    let s = shared(dir.path()).await;
    let e = env();
    assert_eq!(e.jobs.get("prod/orders").map(|j| j.0.as_str()), Some("FlinkDeployment"));
    let running = json!({"lifecycleState": "STABLE", "jobStatus": {"state": "RUNNING", "jobId": "a1b2", "upgradeSavepointPath": "s3://sp/savepoint-1"}});
    // 1st step: GET (absent) → apply → GET status.
    let (client, seen) = server(vec![(404, not_found()), (200, live(json!({}))), (200, live(running.clone()))]);
    assert_eq!(reconcile(&s, &client, &e).await.unwrap(), 1);
    drop(client);
    let seen = seen.await.unwrap();
    assert_eq!(seen[1].0, "PATCH", "{seen:?}");
    assert_eq!(seen[1].1, "/apis/flink.apache.org/v1beta1/namespaces/flink-prod/flinkdeployments/orders");
    assert!(seen[1].2.contains("fieldManager=flinkops") && seen[1].2.contains("force=true"), "{}", seen[1].2);
    assert_eq!(seen[1].3["spec"]["job"]["upgradeMode"], "savepoint");
    let o = s.store.observed("prod/orders").await.unwrap().unwrap();
    assert_eq!((o.state.as_str(), o.phase.as_str(), o.health.as_str()), ("RUNNING", "running", "healthy"));
    assert_eq!(o.last_savepoint.as_deref(), Some("s3://sp/savepoint-1"));
    let intents = s.store.intents("prod/kubernetes", 10).await.unwrap();
    assert_eq!(intents.len(), 1);
    assert_eq!((intents[0].kind, intents[0].state), (IntentKind::Deploy, IntentState::Done));

    // 2nd step, same rendering: only the status is read; the operator now reports an upgrade.
    let (client, seen) = server(vec![(200, live(json!({"lifecycleState": "UPGRADING", "jobStatus": {"state": "RECONCILING"}})))]);
    assert_eq!(reconcile(&s, &client, &e).await.unwrap(), 0);
    drop(client);
    let seen = seen.await.unwrap();
    assert_eq!(seen.len(), 1);
    assert_eq!(seen[0].0, "GET");
    assert_eq!(s.store.observed("prod/orders").await.unwrap().unwrap().phase, "upgrading");

    // A refused apply: the intent fails with the API's message and the hash is not recorded.
    let mut changed = e.clone();
    changed.hash = "0".repeat(64);
    let refusal = json!({"kind": "Status", "apiVersion": "v1", "metadata": {}, "status": "Failure", "message": "admission webhook denied: bad flinkVersion", "reason": "Invalid", "code": 422});
    let (client, seen) = server(vec![(200, live(running.clone())), (422, refusal)]);
    let err = reconcile(&s, &client, &changed).await.unwrap_err().to_string();
    drop(client);
    let _ = seen.await;
    assert!(err.contains("bad flinkVersion"), "{err}");
    let intents = s.store.intents("prod/kubernetes", 10).await.unwrap();
    assert_eq!(intents[0].state, IntentState::Failed);
    assert_ne!(s.store.meta("prod/kubernetes", APPLIED_HASH).await.unwrap(), Some(json!(changed.hash)));
    let _: &SqlStore = &s.store;
}

#[test]
fn flinks_own_view_wins_where_both_speak() {
    assert_eq!(rest_url_for("http://{name}-rest.{namespace}.svc:8081", "orders", "flink-prod"), "http://orders-rest.flink-prod.svc:8081");
    let status = json!({"lifecycleState": "STABLE", "jobStatus": {"state": "RUNNING", "jobId": "a1", "checkpointInfo": {"lastCheckpoint": {"location": "s3://old/chk-1"}}}});
    let base = observed_from_status("e/j", &status, true, 1);
    assert_eq!((base.last_checkpoint.as_deref(), base.health.as_str()), (Some("s3://old/chk-1"), "healthy"));
    let mut o = base.clone();
    apply_rest(&mut o, &RestView { state: "RUNNING".into(), last_checkpoint: Some("s3://cp/a1/chk-9".into()), restored_from: Some("s3://sp/1".into()) });
    assert_eq!((o.last_checkpoint.as_deref(), o.restored_from.as_deref(), o.health.as_str()), (Some("s3://cp/a1/chk-9"), Some("s3://sp/1"), "healthy"));
    // No completed checkpoint in Flink yet: the status's location stays; Flink says RESTARTING.
    let mut o = base.clone();
    apply_rest(&mut o, &RestView { state: "RESTARTING".into(), last_checkpoint: None, restored_from: None });
    assert_eq!((o.state.as_str(), o.last_checkpoint.as_deref(), o.health.as_str()), ("RESTARTING", Some("s3://old/chk-1"), "unhealthy"));
}

#[test]
fn operator_states_map_to_phases() {
    let o = |st: Value, exists| observed_from_status("e/j", &st, exists, 1);
    assert_eq!(o(Value::Null, false).phase, "deploying");
    assert_eq!(o(Value::Null, false).state, "ABSENT");
    assert_eq!(o(json!({"lifecycleState": "SUSPENDED", "jobStatus": {"state": "SUSPENDED"}}), true).phase, "suspended");
    assert_eq!(o(json!({"lifecycleState": "FAILED", "jobStatus": {"state": "FAILED"}}), true).health, "unhealthy");
    assert_eq!(o(json!({"lifecycleState": "STABLE", "jobStatus": {"state": "RUNNING"}, "error": "x"}), true).health, "degraded");
    assert_eq!(o(json!({"lifecycleState": "ROLLED_BACK", "jobStatus": {"state": "RUNNING"}}), true).phase, "failed");
}

#[test]
fn the_enterprise_example_gives_kubernetes_environments_with_their_jobs() {
    let spec = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../../examples/enterprise/flinkops.yaml");
    let p = crate::model::load(&spec).unwrap();
    let prod = p.kube_envs.iter().find(|k| k.name == "production").expect("production is a kubernetes environment");
    assert!(!prod.jobs.is_empty(), "{:?}", prod.jobs.keys());
    for (key, (kind, ns, name)) in &prod.jobs {
        assert!(key.starts_with("production/") && key.ends_with(name.as_str()), "{key}");
        assert!(kind == "FlinkDeployment" || kind == "FlinkSessionJob");
        assert!(!ns.is_empty());
    }
    assert!(prod.files.keys().all(|f| f.starts_with("kubernetes/")));
}
