#![allow(clippy::unwrap_used)]

use std::collections::BTreeMap;
use std::pin::pin;

use http::{Request, Response, StatusCode};
use kube::Client;
use kube::client::Body;
use serde_json::{Value, json};

use super::*;

/// A request the mock API server saw.
#[derive(Debug)]
struct Seen {
    method: String,
    path: String,
    query: BTreeMap<String, String>,
    content_type: String,
    body: Value,
}

/// Serves `answers` in order (status, JSON body) on a mock kube client; returns the client and
/// a handle yielding the requests seen.
fn server(answers: Vec<(u16, Value)>) -> (Client, tokio::task::JoinHandle<Vec<Seen>>) {
    let (svc, handle) = tower_test::mock::pair::<Request<Body>, Response<Body>>();
    let task = tokio::spawn(async move {
        let mut handle = pin!(handle);
        let mut seen = Vec::new();
        for (status, body) in answers {
            let Some((req, send)) = handle.next_request().await else { break };
            let (parts, b) = req.into_parts();
            let bytes = b.collect_bytes().await.unwrap();
            let query = parts
                .uri
                .query()
                .unwrap_or("")
                .split('&')
                .filter(|s| !s.is_empty())
                .map(|kv| {
                    let (k, v) = kv.split_once('=').unwrap_or((kv, ""));
                    (k.to_string(), v.to_string())
                })
                .collect();
            seen.push(Seen {
                method: parts.method.to_string(),
                path: parts.uri.path().to_string(),
                query,
                content_type: parts.headers.get(http::header::CONTENT_TYPE).map(|v| v.to_str().unwrap().to_string()).unwrap_or_default(),
                body: if bytes.is_empty() { Value::Null } else { serde_json::from_slice(&bytes).unwrap() },
            });
            let resp = Response::builder()
                .status(StatusCode::from_u16(status).unwrap())
                .header("content-type", "application/json")
                .body(Body::from(serde_json::to_vec(&body).unwrap()))
                .unwrap();
            send.send_response(resp);
        }
        seen
    });
    (Client::new(svc, "default"), task)
}

fn status(code: u16, reason: &str, message: &str) -> Value {
    json!({"kind": "Status", "apiVersion": "v1", "metadata": {}, "status": "Failure", "message": message, "reason": reason, "code": code})
}

fn not_found() -> Value {
    status(404, "NotFound", "not found")
}

const NS: &str = "apiVersion: v1\nkind: Namespace\nmetadata:\n  name: flink-dev\n  labels:\n    app.kubernetes.io/managed-by: flinkops\n";
const RBAC: &str = "apiVersion: v1\nkind: ServiceAccount\nmetadata:\n  name: flink\n  namespace: flink-dev\n---\napiVersion: rbac.authorization.k8s.io/v1\nkind: Role\nmetadata:\n  name: flink\n  namespace: flink-dev\nrules:\n- apiGroups: [\"\"]\n  resources: [pods]\n  verbs: [get, list]\n";
const FD: &str = "apiVersion: flink.apache.org/v1beta1\nkind: FlinkDeployment\nmetadata:\n  name: session\n  namespace: flink-dev\nspec:\n  flinkVersion: v2_1\n  jobManager:\n    replicas: 1\n    resource:\n      cpu: 1\n      memory: 2048m\n";

fn files() -> BTreeMap<String, String> {
    // Deliberately out of apply order by file name; non-Kubernetes files are ignored.
    BTreeMap::from([
        ("kubernetes/flink/session.yaml".to_string(), FD.to_string()),
        ("kubernetes/namespace.yaml".to_string(), NS.to_string()),
        ("kubernetes/rbac.yaml".to_string(), RBAC.to_string()),
        ("helm/values.yaml".to_string(), "image: x\n".to_string()),
        ("prometheus/rules.yaml".to_string(), "groups: []\n".to_string()),
    ])
}

#[test]
fn objects_are_typed_scoped_and_ordered() {
    let objs = objects(&files()).unwrap();
    let keys: Vec<String> = objs.iter().map(Object::key).collect();
    assert_eq!(keys, ["Namespace/flink-dev", "ServiceAccount/flink-dev/flink", "Role/flink-dev/flink", "FlinkDeployment/flink-dev/session"]);
    assert!(!objs[0].namespaced);
    assert_eq!(objs[0].resource.plural, "namespaces");
    assert_eq!(objs[2].resource.group, "rbac.authorization.k8s.io");
    assert_eq!(objs[2].resource.plural, "roles");
    assert_eq!(objs[3].resource.api_version, "flink.apache.org/v1beta1");
    assert_eq!(objs[3].resource.plural, "flinkdeployments");
}

#[test]
fn unknown_kinds_are_refused() {
    let f = BTreeMap::from([("kubernetes/x.yaml".to_string(), "apiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: d\n  namespace: n\n".to_string())]);
    let e = objects(&f).unwrap_err().to_string(); // `n` is a string (YAML 1.2), not `false`
    assert!(e.contains("kubernetes/x.yaml: Deployment d: unsupported kind"), "{e}");
}

#[test]
fn the_enterprise_example_parses() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("../..");
    let spec = root.join("examples/enterprise/flinkops.yaml");
    let text = flinkops_spec::output::read_spec(&spec).unwrap();
    let parsed = flinkops_spec::parse(&spec.display().to_string(), &text).unwrap();
    let sql = flinkops_spec::output::load_sql(&parsed, spec.parent().unwrap()).unwrap();
    for env in ["development", "staging", "production"] {
        let r = flinkops_spec::render::render(&parsed, env, &sql).unwrap();
        let objs = objects(&r.bundle.files).unwrap();
        assert_eq!(objs[0].resource.kind, "Namespace", "{env}");
        let kinds: Vec<&str> = objs.iter().map(|o| o.resource.kind.as_str()).collect();
        for k in ["ServiceAccount", "Role", "RoleBinding", "FlinkDeployment", "PodMonitor", "PrometheusRule", "ConfigMap"] {
            assert!(kinds.contains(&k), "{env}: {kinds:?}");
        }
        let first_flink = kinds.iter().position(|k| k.starts_with("Flink")).unwrap();
        assert!(kinds[..first_flink].contains(&"RoleBinding"), "{env}: RBAC before Flink: {kinds:?}");
    }
}

#[test]
fn diff_reports_added_changed_and_owned_removed_fields() {
    let rendered = json!({"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "c", "labels": {"a": "1", "b": "2"}}, "data": {"k": "new", "n": "x"}});
    let live = json!({
        "apiVersion": "v1", "kind": "ConfigMap",
        "metadata": {"name": "c", "uid": "u", "resourceVersion": "9", "creationTimestamp": "t", "labels": {"a": "1", "old": "z", "theirs": "q"},
            "managedFields": [{"manager": "flinkops", "operation": "Apply", "fieldsV1": {"f:metadata": {"f:labels": {"f:a": {}, "f:old": {}}}, "f:data": {"f:k": {}}}}]},
        "data": {"k": "old"},
        "status": {"x": 1}
    });
    let lines: Vec<String> = diff(&rendered, Some(&live)).iter().map(ToString::to_string).collect();
    // Keys in order (serde_json's map is sorted).
    assert_eq!(lines, ["~ data.k: \"old\" -> \"new\"", "+ data.n: \"x\"", "+ metadata.labels.b: \"2\"", "- metadata.labels.old: \"z\""]);
    assert!(diff(&live, Some(&live)).is_empty());
    let all = diff(&rendered, None);
    assert!(all.iter().all(|l| matches!(l, DiffLine::Add { .. })));
    assert_eq!(all.len(), 7);
}

fn assert_apply(s: &Seen, path: &str, dry_run: bool) {
    assert_eq!(s.method, "PATCH", "{s:?}");
    assert_eq!(s.path, path);
    assert_eq!(s.query.get("fieldManager").map(String::as_str), Some("flinkops"), "{s:?}");
    assert_eq!(s.query.get("force").map(String::as_str), Some("true"), "{s:?}");
    assert_eq!(s.query.get("dryRun").map(String::as_str), dry_run.then_some("All"), "{s:?}");
    assert_eq!(s.content_type, "application/apply-patch+yaml");
}

fn echo(s: &str) -> Value {
    let v: Value = serde_saphyr::from_str(s).unwrap();
    v
}

#[tokio::test]
async fn creates_everything_in_order_with_exact_requests() {
    let docs: Vec<Value> = serde_saphyr::from_multiple(RBAC).unwrap();
    let answers = vec![
        (404, not_found()),
        (201, echo(NS)),
        (404, not_found()),
        (201, docs[0].clone()),
        (404, not_found()),
        (201, docs[1].clone()),
        (404, not_found()),
        (201, echo(FD)),
    ];
    let (client, task) = server(answers);
    let objs = objects(&files()).unwrap();
    let mut printed = Vec::new();
    let report = apply(&client, &objs, false, |a| printed.push(a.key.clone())).await;
    let seen = task.await.unwrap();
    assert!(report.failed.is_none(), "{:?}", report.failed);
    assert_eq!(printed.len(), 4);
    assert!(report.applied.iter().all(|a| a.action == Action::Create));
    let paths = [
        "/api/v1/namespaces/flink-dev",
        "/api/v1/namespaces/flink-dev/serviceaccounts/flink",
        "/apis/rbac.authorization.k8s.io/v1/namespaces/flink-dev/roles/flink",
        "/apis/flink.apache.org/v1beta1/namespaces/flink-dev/flinkdeployments/session",
    ];
    assert_eq!(seen.len(), 8);
    for (i, p) in paths.iter().enumerate() {
        assert_eq!(seen[2 * i].method, "GET");
        assert_eq!(seen[2 * i].path, *p);
        assert_apply(&seen[2 * i + 1], p, false);
    }
    // The body is the rendered object, as JSON (a YAML subset).
    assert_eq!(seen[7].body, echo(FD));
    assert_eq!(seen[1].body["metadata"]["labels"]["app.kubernetes.io/managed-by"], "flinkops");
    let fd = &report.applied[3];
    assert!(fd.diff.iter().any(|l| l.to_string() == "+ spec.jobManager.resource.cpu: 1"), "{:?}", fd.diff);
}

#[tokio::test]
async fn dry_run_updates_show_the_diff_and_send_dry_run_all() {
    let mut live_ns = echo(NS);
    live_ns["metadata"]["uid"] = json!("abc");
    live_ns["metadata"]["resourceVersion"] = json!("17");
    live_ns["status"] = json!({"phase": "Active"});
    live_ns["spec"] = json!({"finalizers": ["kubernetes"]});
    let mut live_fd = echo(FD);
    live_fd["spec"]["jobManager"]["resource"]["memory"] = json!("1024m");
    live_fd["spec"]["flinkVersion"] = json!("v1_20");
    let f = BTreeMap::from([("kubernetes/namespace.yaml".to_string(), NS.to_string()), ("kubernetes/flink/s.yaml".to_string(), FD.to_string())]);
    let (client, task) = server(vec![(200, live_ns.clone()), (200, live_ns), (200, live_fd.clone()), (200, live_fd)]);
    let report = apply(&client, &objects(&f).unwrap(), true, |_| {}).await;
    let seen = task.await.unwrap();
    assert!(report.failed.is_none());
    assert!(report.dry_run);
    assert_eq!(report.applied[0].action, Action::Unchanged, "{:?}", report.applied[0].diff);
    assert_eq!(report.applied[1].action, Action::Update);
    let lines: Vec<String> = report.applied[1].diff.iter().map(ToString::to_string).collect();
    assert_eq!(lines, ["~ spec.flinkVersion: \"v1_20\" -> \"v2_1\"", "~ spec.jobManager.resource.memory: \"1024m\" -> \"2048m\""]);
    assert_apply(&seen[1], "/api/v1/namespaces/flink-dev", true);
    assert_apply(&seen[3], "/apis/flink.apache.org/v1beta1/namespaces/flink-dev/flinkdeployments/session", true);
}

#[tokio::test]
async fn an_api_error_stops_the_apply_and_names_the_object() {
    let docs: Vec<Value> = serde_saphyr::from_multiple(RBAC).unwrap();
    let forbidden = status(403, "Forbidden", "roles.rbac.authorization.k8s.io \"flink\" is forbidden: user \"dev\" cannot patch resource \"roles\"");
    let answers = vec![(404, not_found()), (201, echo(NS)), (404, not_found()), (201, docs[0].clone()), (404, not_found()), (403, forbidden)];
    let (client, task) = server(answers);
    let report = apply(&client, &objects(&files()).unwrap(), false, |_| {}).await;
    let seen = task.await.unwrap();
    // Nothing after the failure was even looked at.
    assert_eq!(seen.len(), 6);
    assert_eq!(report.applied.iter().map(|a| a.key.as_str()).collect::<Vec<_>>(), ["Namespace/flink-dev", "ServiceAccount/flink-dev/flink"]);
    let f = report.failed.unwrap();
    assert_eq!(f.key, "Role/flink-dev/flink");
    assert_eq!(f.code, Some(403));
    let msg = f.to_string();
    assert!(msg.starts_with("Role/flink-dev/flink (kubernetes/rbac.yaml): apply failed: 403 roles.rbac"), "{msg}");
    assert!(msg.contains("cannot patch resource"), "{msg}");
    assert_eq!(report.skipped, ["FlinkDeployment/flink-dev/session"]);
}

#[tokio::test]
async fn dry_run_into_a_new_namespace_only_diffs_its_objects() {
    // Dry run: the namespace does not exist and is not created, so nothing in it is sent.
    let (client, task) = server(vec![(404, not_found()), (201, echo(NS))]);
    let report = apply(&client, &objects(&files()).unwrap(), true, |_| {}).await;
    let seen = task.await.unwrap();
    assert_eq!(seen.len(), 2);
    assert_apply(&seen[1], "/api/v1/namespaces/flink-dev", true);
    assert!(report.failed.is_none());
    assert_eq!(report.applied.len(), 4);
    assert!(report.applied[0].validated);
    assert!(report.applied[1..].iter().all(|a| !a.validated && a.action == Action::Create && !a.diff.is_empty()));
}

/// Applies the enterprise example's development environment to the current kubeconfig
/// context (server-side dry run: nothing is persisted). Needs a cluster with the Flink operator
/// and prometheus-operator CRDs installed: `cargo test -p flinkops-kube -- --ignored`.
#[tokio::test]
#[ignore = "needs a Kubernetes cluster (current kubeconfig context) with the Flink and prometheus-operator CRDs"]
async fn real_cluster_dry_run_apply_of_enterprise_development() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("../..");
    let spec = root.join("examples/enterprise/flinkops.yaml");
    let text = flinkops_spec::output::read_spec(&spec).unwrap();
    let parsed = flinkops_spec::parse(&spec.display().to_string(), &text).unwrap();
    let sql = flinkops_spec::output::load_sql(&parsed, spec.parent().unwrap()).unwrap();
    let r = flinkops_spec::render::render(&parsed, "development", &sql).unwrap();
    let objs = objects(&r.bundle.files).unwrap();
    let client = client(None, None).await.unwrap();
    let dry = std::env::var("FLINKOPS_KUBE_TEST_APPLY").is_err();
    let report = apply(&client, &objs, dry, |a| eprintln!("{} {}", a.action, a.key)).await;
    if let Some(f) = &report.failed {
        panic!("{f}");
    }
}
