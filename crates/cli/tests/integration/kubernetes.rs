//! `target: kubernetes` environments observed through the job's own JobManager REST API (the
//! spec's `restUrl` template), beside the operator's status. The Kubernetes API is kube-rs's mock
//! API server (no API server runs here); the JobManager is a real local Flink cluster running a
//! real checkpointed job, standing in for the `<name>-rest` service of the FlinkDeployment.

use std::pin::pin;
use std::time::Duration;

use flinkops_control::store::Store;
use flinkops_serve::kube::KubeEnv;
use http::{Request, Response, StatusCode};
use kube::client::Body;
use serde_json::{Value, json};

use crate::support::{counting_sql, flinkops_json, shared_cluster, sql_file, wait_for};

const FD: &str = "apiVersion: flink.apache.org/v1beta1\nkind: FlinkDeployment\nmetadata:\n  name: orders\n  namespace: flink-prod\nspec:\n  flinkVersion: v2_1\n  job:\n    jarURI: local:///opt/flink/usrlib/orders.jar\n    upgradeMode: savepoint\n";

/// A mock API server answering in order (kube-rs's tower-test pair).
fn api_server(answers: Vec<(u16, Value)>) -> (kube::Client, tokio::task::JoinHandle<()>) {
    let (svc, handle) = tower_test::mock::pair::<Request<Body>, Response<Body>>();
    let task = tokio::spawn(async move {
        let mut handle = pin!(handle);
        for (status, body) in answers {
            let Some((_req, send)) = handle.next_request().await else { break };
            let resp = Response::builder().status(StatusCode::from_u16(status).unwrap()).header("content-type", "application/json").body(Body::from(serde_json::to_vec(&body).unwrap())).unwrap();
            send.send_response(resp);
        }
    });
    (kube::Client::new(svc, "default"), task)
}

fn live(status: Value) -> Value {
    json!({"apiVersion": "flink.apache.org/v1beta1", "kind": "FlinkDeployment", "metadata": {"name": "orders", "namespace": "flink-prod"}, "spec": {}, "status": status})
}

#[test]
fn kubernetes_jobs_are_observed_through_their_jobmanager_rest_api() {
    let c = shared_cluster();
    let dir = tempfile::tempdir().unwrap();
    let sql = sql_file(&dir, "count.sql", &counting_sql("it-kube-rest"));
    let v = flinkops_json(&["job", "submit", "--sql", sql.to_str().unwrap(), "--cluster", &c.name]);
    let flink_job = v["job_id"].as_str().unwrap().to_string();
    wait_for("a completed checkpoint", Duration::from_secs(120), || {
        crate::support::http_get_json(&format!("{}/jobs/{flink_job}/checkpoints", c.rest_url))["latest"]["completed"]["external_path"].as_str().map(str::to_string)
    });

    let rt = tokio::runtime::Runtime::new().unwrap();
    rt.block_on(async {
        let spec = dir.path().join("flinkops.yaml");
        std::fs::write(&spec, "platform: t\nenvironments:\n  dev:\n    target: standalone\n    restUrl: http://127.0.0.1:9\n    flinkVersion: \"2.3\"\n    metrics: {targets: [\"127.0.0.1:9249\"]}\njobs: {}\n").unwrap();
        let shared = flinkops_serve::state::Shared::start(flinkops_serve::ServeOptions {
            spec,
            store: dir.path().join("store").display().to_string(),
            home: flinkops_local::home::Home::new(dir.path().join("home")),
            flink_home: None,
            tick: Duration::from_secs(1),
            supervise_every: Duration::from_secs(2),
            token: None,
            kubeconfig: None,
            kube_context: None,
        })
        .await
        .unwrap();
        let files = std::collections::BTreeMap::from([("kubernetes/flink/orders.yaml".to_string(), FD.to_string())]);
        // The operator's status is behind: an old checkpoint location.
        let status = json!({"lifecycleState": "STABLE", "jobStatus": {"state": "RUNNING", "jobId": flink_job, "checkpointInfo": {"lastCheckpoint": {"location": "s3://stale/chk-1"}}}});

        // 1. With the JobManager reachable at `restUrl`: Flink's latest checkpoint, not the status's.
        let env = KubeEnv::new("prod", &files, &["orders".to_string()], Some(&c.rest_url)).unwrap();
        let (client, task) = api_server(vec![(404, json!({"kind": "Status", "apiVersion": "v1", "metadata": {}, "status": "Failure", "reason": "NotFound", "code": 404})), (200, live(json!({}))), (200, live(status.clone()))]);
        flinkops_serve::kube::reconcile(&shared, &client, &env).await.unwrap();
        drop(client);
        task.await.unwrap();
        let o = shared.store.observed("prod/orders").await.unwrap().unwrap();
        let cp = o.last_checkpoint.clone().unwrap_or_default();
        assert!(cp.starts_with("file:") && cp.contains(&flink_job) && cp.contains("chk-"), "Flink's own latest checkpoint: {o:?}");
        assert_eq!((o.state.as_str(), o.phase.as_str(), o.health.as_str()), ("RUNNING", "running", "healthy"), "{o:?}");

        // 2. An unreachable JobManager: the operator's status is what there is.
        let env_far = KubeEnv::new("prod", &files, &["orders".to_string()], Some("http://127.0.0.1:9")).unwrap();
        let (client, task) = api_server(vec![(200, live(status.clone()))]);
        flinkops_serve::kube::reconcile(&shared, &client, &env_far).await.unwrap();
        drop(client);
        task.await.unwrap();
        let o = shared.store.observed("prod/orders").await.unwrap().unwrap();
        assert_eq!(o.last_checkpoint.as_deref(), Some("s3://stale/chk-1"), "{o:?}");

        // 3. The job dies in Flink while the operator still says RUNNING: Flink's state wins and
        //    the job is not healthy.
        let _ = std::process::Command::new("curl").args(["-sS", "--max-time", "10", "-X", "PATCH", &format!("{}/jobs/{flink_job}?mode=cancel", c.rest_url)]).output();
        wait_for("the job to be cancelled", Duration::from_secs(60), || {
            (crate::support::http_get_json(&format!("{}/jobs/{flink_job}", c.rest_url))["state"] == "CANCELED").then_some(())
        });
        let (client, task) = api_server(vec![(200, live(status.clone()))]);
        flinkops_serve::kube::reconcile(&shared, &client, &env).await.unwrap();
        drop(client);
        task.await.unwrap();
        let o = shared.store.observed("prod/orders").await.unwrap().unwrap();
        assert_eq!((o.state.as_str(), o.health.as_str()), ("CANCELED", "unhealthy"), "{o:?}");
        shared.shutdown().await;
    });
}
