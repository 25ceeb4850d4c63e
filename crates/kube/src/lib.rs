//! `flinkops apply`: server-side apply of the Kubernetes objects `flinkops render` produces.
//!
//! [`objects`] turns the rendered files (those under `kubernetes/`) into [`Object`]s — a
//! [`DynamicObject`] with its [`ApiResource`] and scope — in apply order (Namespace, then RBAC,
//! then ConfigMaps, then the rest). [`apply`] then, for each object in turn: GETs the live object
//! (404 → create), diffs the fields we set against it ([`diff`]), and PATCHes it with
//! `Patch::Apply` as field manager `flinkops` (forced; server-side dry run when asked). The first
//! failure stops the run; the [`Report`] says what was applied before it.

use std::collections::BTreeMap;
use std::fmt;
use std::path::Path;

use kube::api::{Api, ApiResource, DynamicObject, GroupVersionKind, Patch, PatchParams};
use kube::config::{KubeConfigOptions, Kubeconfig};
use kube::{Client, Config};
use serde_json::Value;

/// The field manager of every apply.
pub const FIELD_MANAGER: &str = "flinkops";

/// What can go wrong before anything is sent.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    #[error("{file}: document {doc}: not a Kubernetes object: {msg}")]
    Parse { file: String, doc: usize, msg: String },
    #[error("{file}: {kind} {name}: unsupported kind (apiVersion {api_version}); flinkops only applies the kinds it renders")]
    UnknownKind { file: String, kind: String, api_version: String, name: String },
    #[error("cannot load the Kubernetes client configuration: {0}")]
    Config(String),
}

/// One rendered object, ready to apply.
#[derive(Debug, Clone)]
pub struct Object {
    /// The rendered file it came from.
    pub file: String,
    pub resource: ApiResource,
    pub namespaced: bool,
    pub object: DynamicObject,
}

impl Object {
    pub fn name(&self) -> &str {
        self.object.metadata.name.as_deref().unwrap_or("")
    }
    pub fn namespace(&self) -> Option<&str> {
        self.object.metadata.namespace.as_deref()
    }
    /// `Kind/namespace/name` (`Kind/name` when cluster-scoped).
    pub fn key(&self) -> String {
        match (self.namespaced, self.namespace()) {
            (true, Some(ns)) => format!("{}/{}/{}", self.resource.kind, ns, self.name()),
            _ => format!("{}/{}", self.resource.kind, self.name()),
        }
    }
}

/// (group, kind) → (plural, namespaced, apply rank).
fn known(group: &str, kind: &str) -> Option<(&'static str, bool, u8)> {
    Some(match (group, kind) {
        ("", "Namespace") => ("namespaces", false, 0),
        ("", "ServiceAccount") => ("serviceaccounts", true, 1),
        ("rbac.authorization.k8s.io", "Role") => ("roles", true, 1),
        ("rbac.authorization.k8s.io", "RoleBinding") => ("rolebindings", true, 1),
        ("rbac.authorization.k8s.io", "ClusterRole") => ("clusterroles", false, 1),
        ("rbac.authorization.k8s.io", "ClusterRoleBinding") => ("clusterrolebindings", false, 1),
        ("", "ConfigMap") => ("configmaps", true, 2),
        ("", "Secret") => ("secrets", true, 2),
        ("", "Service") => ("services", true, 3),
        ("flink.apache.org", "FlinkDeployment") => ("flinkdeployments", true, 3),
        ("flink.apache.org", "FlinkSessionJob") => ("flinksessionjobs", true, 4),
        ("monitoring.coreos.com", "PodMonitor") => ("podmonitors", true, 5),
        ("monitoring.coreos.com", "ServiceMonitor") => ("servicemonitors", true, 5),
        ("monitoring.coreos.com", "PrometheusRule") => ("prometheusrules", true, 5),
        _ => return None,
    })
}

/// YAML 1.2 core schema: only `true`/`false` are booleans (`n`, `no`, `on` stay strings).
fn yaml_options() -> serde_saphyr::Options {
    let mut o = serde_saphyr::Options::default();
    o.strict_booleans = true;
    o
}

/// The Kubernetes objects among rendered files (`path → YAML`): every document of every file
/// under `kubernetes/`, in apply order (Namespace, RBAC, ConfigMaps, Flink, monitoring; ties by
/// file and position).
pub fn objects(files: &BTreeMap<String, String>) -> Result<Vec<Object>, Error> {
    let mut out = Vec::new();
    for (file, text) in files.iter().filter(|(f, _)| f.starts_with("kubernetes/") && (f.ends_with(".yaml") || f.ends_with(".yml"))) {
        let docs: Vec<Value> = serde_saphyr::from_multiple_with_options(text, yaml_options())
            .map_err(|e| Error::Parse { file: file.clone(), doc: 1, msg: e.to_string() })?;
        for (i, doc) in docs.into_iter().enumerate() {
            if doc.is_null() {
                continue;
            }
            let parse = |msg: String| Error::Parse { file: file.clone(), doc: i + 1, msg };
            let object: DynamicObject = serde_json::from_value(doc).map_err(|e| parse(e.to_string()))?;
            let types = object.types.clone().ok_or_else(|| parse("no apiVersion/kind".into()))?;
            let (group, version) = match types.api_version.split_once('/') {
                Some((g, v)) => (g.to_string(), v.to_string()),
                None => (String::new(), types.api_version.clone()),
            };
            let name = object.metadata.name.clone().ok_or_else(|| parse("no metadata.name".into()))?;
            let (plural, namespaced, rank) = known(&group, &types.kind).ok_or_else(|| Error::UnknownKind {
                file: file.clone(),
                kind: types.kind.clone(),
                api_version: types.api_version.clone(),
                name: name.clone(),
            })?;
            if namespaced && object.metadata.namespace.is_none() {
                return Err(parse(format!("{} {name}: namespaced but has no metadata.namespace", types.kind)));
            }
            let resource = ApiResource::from_gvk_with_plural(&GroupVersionKind::gvk(&group, &version, &types.kind), plural);
            out.push((rank, Object { file: file.clone(), resource, namespaced, object }));
        }
    }
    out.sort_by_key(|(rank, _)| *rank); // stable: file order, then document order
    Ok(out.into_iter().map(|(_, o)| o).collect())
}

/// A client from kube's defaults (`KUBECONFIG` / `~/.kube/config`, else in-cluster), or from
/// an explicit kubeconfig file and/or context.
pub async fn client(kubeconfig: Option<&Path>, context: Option<&str>) -> Result<Client, Error> {
    let err = |e: &dyn fmt::Display| Error::Config(e.to_string());
    let options = KubeConfigOptions { context: context.map(str::to_string), ..Default::default() };
    let config = match (kubeconfig, context) {
        (Some(path), _) => {
            let kc = Kubeconfig::read_from(path).map_err(|e| err(&e))?;
            Config::from_custom_kubeconfig(kc, &options).await.map_err(|e| err(&e))?
        }
        (None, Some(_)) => Config::from_kubeconfig(&options).await.map_err(|e| err(&e))?,
        (None, None) => Config::infer().await.map_err(|e| err(&e))?,
    };
    Client::try_from(config).map_err(|e| err(&e))
}

/// One line of a diff: `+ path: value` (we add it), `- path: value` (we owned it and drop it),
/// `~ path: live -> rendered` (we change it).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum DiffLine {
    Add { path: String, value: Value },
    Remove { path: String, value: Value },
    Change { path: String, live: Value, rendered: Value },
}

impl fmt::Display for DiffLine {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            DiffLine::Add { path, value } => write!(f, "+ {path}: {value}"),
            DiffLine::Remove { path, value } => write!(f, "- {path}: {value}"),
            DiffLine::Change { path, live, rendered } => write!(f, "~ {path}: {live} -> {rendered}"),
        }
    }
}

const IGNORED_METADATA: &[&str] = &["managedFields", "resourceVersion", "uid", "creationTimestamp", "generation", "selfLink"];

/// The diff of the fields we set (`rendered`) against the live object (`None`: it does not
/// exist, every field is an addition). Fields only the live object has are reported as removed
/// only when its `managedFields` say `flinkops` applied them (server-side apply will remove
/// them); everything else there (defaults, `status`, other managers' fields) is ignored, as are
/// `metadata.managedFields/resourceVersion/uid/creationTimestamp/generation`. Lists are compared
/// by position.
pub fn diff(rendered: &Value, live: Option<&Value>) -> Vec<DiffLine> {
    let mut out = Vec::new();
    let owned = live.and_then(owned_fields);
    let empty = Value::Object(Default::default());
    let live = live.unwrap_or(&empty);
    walk("", rendered, Some(live), owned.as_ref(), &mut out);
    out
}

fn owned_fields(live: &Value) -> Option<Value> {
    live.pointer("/metadata/managedFields")?
        .as_array()?
        .iter()
        .find(|m| m.get("manager").and_then(Value::as_str) == Some(FIELD_MANAGER) && m.get("operation").and_then(Value::as_str) == Some("Apply"))
        .and_then(|m| m.get("fieldsV1").cloned())
}

fn child(path: &str, key: &str) -> String {
    if path.is_empty() { key.to_string() } else { format!("{path}.{key}") }
}

fn leaves(path: &str, v: &Value, out: &mut Vec<(String, Value)>) {
    match v {
        Value::Object(m) if !m.is_empty() => m.iter().for_each(|(k, v)| leaves(&child(path, k), v, out)),
        Value::Array(a) if !a.is_empty() => a.iter().enumerate().for_each(|(i, v)| leaves(&format!("{path}[{i}]"), v, out)),
        _ => out.push((path.to_string(), v.clone())),
    }
}

fn walk(path: &str, rendered: &Value, live: Option<&Value>, owned: Option<&Value>, out: &mut Vec<DiffLine>) {
    let Some(live) = live else {
        let mut ls = Vec::new();
        leaves(path, rendered, &mut ls);
        out.extend(ls.into_iter().map(|(path, value)| DiffLine::Add { path, value }));
        return;
    };
    match (rendered, live) {
        (Value::Object(r), Value::Object(l)) => {
            for (k, rv) in r {
                if path == "metadata" && IGNORED_METADATA.contains(&k.as_str()) {
                    continue;
                }
                let sub_owned = owned.and_then(|o| o.get(format!("f:{k}")));
                walk(&child(path, k), rv, l.get(k), sub_owned, out);
            }
            for (k, lv) in l {
                if r.contains_key(k) || (path.is_empty() && k == "status") || (path == "metadata" && IGNORED_METADATA.contains(&k.as_str())) {
                    continue;
                }
                if owned.and_then(|o| o.get(format!("f:{k}"))).is_some() {
                    let mut ls = Vec::new();
                    leaves(&child(path, k), lv, &mut ls);
                    out.extend(ls.into_iter().map(|(path, value)| DiffLine::Remove { path, value }));
                }
            }
        }
        (Value::Array(r), Value::Array(l)) => {
            for (i, rv) in r.iter().enumerate() {
                walk(&format!("{path}[{i}]"), rv, l.get(i), None, out);
            }
            for (i, lv) in l.iter().enumerate().skip(r.len()) {
                let mut ls = Vec::new();
                leaves(&format!("{path}[{i}]"), lv, &mut ls);
                out.extend(ls.into_iter().map(|(path, value)| DiffLine::Remove { path, value }));
            }
        }
        (r, l) if same(r, l) => {}
        (r, l) => out.push(DiffLine::Change { path: path.to_string(), live: l.clone(), rendered: r.clone() }),
    }
}

/// Equal, numbers compared by value (`2` and `2.0` are the same field).
fn same(a: &Value, b: &Value) -> bool {
    match (a, b) {
        (Value::Number(x), Value::Number(y)) => x == y || x.as_f64() == y.as_f64(),
        _ => a == b,
    }
}

/// What apply did (or, in a dry run, would do) to one object.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Action {
    Create,
    Update,
    Unchanged,
}

impl fmt::Display for Action {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Action::Create => "create",
            Action::Update => "update",
            Action::Unchanged => "unchanged",
        })
    }
}

/// One applied object.
#[derive(Debug, Clone)]
pub struct Applied {
    /// `Kind/namespace/name`.
    pub key: String,
    pub file: String,
    pub action: Action,
    pub diff: Vec<DiffLine>,
    /// False when a dry run could not send the object: its namespace does not exist yet (a
    /// server-side dry run creates nothing, so the API would answer 404).
    pub validated: bool,
}

/// The object that failed and why (the API's message).
#[derive(Debug, Clone)]
pub struct Failure {
    pub key: String,
    pub file: String,
    /// `get` or `apply`.
    pub step: &'static str,
    /// HTTP status when the API answered with one.
    pub code: Option<u16>,
    pub message: String,
}

impl fmt::Display for Failure {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} ({}): {} failed: ", self.key, self.file, self.step)?;
        match self.code {
            Some(c) => write!(f, "{c} {}", self.message),
            None => f.write_str(&self.message),
        }
    }
}

/// The outcome of [`apply`]: what was applied, in order, and the failure that stopped it.
#[derive(Debug, Clone, Default)]
pub struct Report {
    pub dry_run: bool,
    pub applied: Vec<Applied>,
    pub failed: Option<Failure>,
    /// Objects not attempted because of the failure.
    pub skipped: Vec<String>,
}

fn describe(e: &kube::Error) -> (Option<u16>, String) {
    match e {
        kube::Error::Api(s) => {
            let msg = if s.message.is_empty() { s.reason.clone() } else { s.message.clone() };
            let msg = if s.reason.is_empty() || msg == s.reason { msg } else { format!("{} ({})", msg, s.reason) };
            (Some(s.code), msg)
        }
        other => (None, other.to_string()),
    }
}

/// Applies `objects` in order: GET (404 → create), diff, server-side apply as `flinkops`
/// (forced; `dryRun=All` when `dry_run`). `on_object` is called after each object is applied,
/// with its diff, so a caller can print progress. Stops at the first failure.
pub async fn apply(client: &Client, objects: &[Object], dry_run: bool, mut on_object: impl FnMut(&Applied)) -> Report {
    let mut report = Report { dry_run, ..Default::default() };
    let mut params = PatchParams::apply(FIELD_MANAGER).force();
    params.dry_run = dry_run;
    // Namespaces a dry run "creates": they stay absent, so objects in them are only diffed.
    let mut absent_namespaces: Vec<String> = Vec::new();
    for (idx, o) in objects.iter().enumerate() {
        if dry_run && o.namespaced && o.namespace().is_some_and(|ns| absent_namespaces.iter().any(|a| a == ns)) {
            let d = serde_json::to_value(&o.object).map(|v| diff(&v, None)).unwrap_or_default();
            let a = Applied { key: o.key(), file: o.file.clone(), action: Action::Create, diff: d, validated: false };
            on_object(&a);
            report.applied.push(a);
            continue;
        }
        let api: Api<DynamicObject> = match (o.namespaced, o.namespace()) {
            (true, Some(ns)) => Api::namespaced_with(client.clone(), ns, &o.resource),
            _ => Api::all_with(client.clone(), &o.resource),
        };
        let fail = |step, e: &kube::Error| {
            let (code, message) = describe(e);
            Failure { key: o.key(), file: o.file.clone(), step, code, message }
        };
        let stop = |report: &mut Report, f: Failure| {
            report.failed = Some(f);
            report.skipped = objects[idx + 1..].iter().map(Object::key).collect();
        };
        let live = match api.get_opt(o.name()).await {
            Ok(l) => l,
            Err(e) => {
                stop(&mut report, fail("get", &e));
                break;
            }
        };
        let rendered = match serde_json::to_value(&o.object) {
            Ok(v) => v,
            Err(e) => {
                stop(&mut report, Failure { key: o.key(), file: o.file.clone(), step: "apply", code: None, message: e.to_string() });
                break;
            }
        };
        let live_value = live.as_ref().and_then(|l| serde_json::to_value(l).ok());
        let d = diff(&rendered, live_value.as_ref());
        let action = match (&live, d.is_empty()) {
            (None, _) => Action::Create,
            (Some(_), true) => Action::Unchanged,
            (Some(_), false) => Action::Update,
        };
        if let Err(e) = api.patch(o.name(), &params, &Patch::Apply(&o.object)).await {
            stop(&mut report, fail("apply", &e));
            break;
        }
        if dry_run && live.is_none() && o.resource.kind == "Namespace" && o.resource.group.is_empty() {
            absent_namespaces.push(o.name().to_string());
        }
        let a = Applied { key: o.key(), file: o.file.clone(), action, diff: d, validated: true };
        on_object(&a);
        report.applied.push(a);
    }
    report
}

#[cfg(test)]
mod tests;
