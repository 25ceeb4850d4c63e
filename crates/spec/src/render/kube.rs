//! Kubernetes objects of a `kubernetes` environment: Namespace; the `flink` ServiceAccount with a
//! namespaced Role granting exactly what Flink's native Kubernetes integration and Kubernetes HA
//! use; FlinkDeployments (application mode) or a session FlinkDeployment with FlinkSessionJobs;
//! ConfigMaps with SQL scripts; Helm values for the official operator chart.

use serde_json::{Value, json};

use crate::plan::{Conf, EnvPlan, JobPlan};
use crate::types::DeploymentMode;

/// The service account Flink's JobManager runs as.
pub const SERVICE_ACCOUNT: &str = "flink";
/// Where SQL scripts are mounted in the Flink pods.
pub const SQL_MOUNT: &str = "/opt/flink/sql";

/// Labels every object carries.
pub fn labels(p: &EnvPlan<'_>, component: &str) -> Value {
    json!({
        "app.kubernetes.io/part-of": p.platform,
        "app.kubernetes.io/managed-by": "flinkops",
        "app.kubernetes.io/component": component,
        "flinkops/environment": p.name,
    })
}

fn meta(p: &EnvPlan<'_>, name: &str, component: &str) -> Value {
    json!({"name": name, "namespace": p.namespace(), "labels": labels(p, component)})
}

pub fn namespace(p: &EnvPlan<'_>) -> Value {
    json!({
        "apiVersion": "v1",
        "kind": "Namespace",
        "metadata": {"name": p.namespace(), "labels": labels(p, "namespace")},
    })
}

/// ServiceAccount, Role and RoleBinding for Flink's JobManager: it creates and deletes its
/// TaskManager pods (and watches them), keeps leader election and HA metadata in ConfigMaps
/// (and cleans them up by label), and reads its own Deployment to make it the owner of the
/// TaskManager pods. Nothing cluster-wide, no Secrets, no Services.
pub fn rbac(p: &EnvPlan<'_>) -> Vec<Value> {
    vec![
        json!({
            "apiVersion": "v1",
            "kind": "ServiceAccount",
            "metadata": meta(p, SERVICE_ACCOUNT, "rbac"),
        }),
        json!({
            "apiVersion": "rbac.authorization.k8s.io/v1",
            "kind": "Role",
            "metadata": meta(p, SERVICE_ACCOUNT, "rbac"),
            "rules": [
                {"apiGroups": [""], "resources": ["pods"], "verbs": ["create", "delete", "get", "list", "watch"]},
                {"apiGroups": [""], "resources": ["configmaps"], "verbs": ["create", "delete", "deletecollection", "get", "list", "patch", "update", "watch"]},
                {"apiGroups": ["apps"], "resources": ["deployments"], "verbs": ["get", "list", "watch"]},
                {"apiGroups": ["apps"], "resources": ["deployments/finalizers"], "verbs": ["update"]},
            ],
        }),
        json!({
            "apiVersion": "rbac.authorization.k8s.io/v1",
            "kind": "RoleBinding",
            "metadata": meta(p, SERVICE_ACCOUNT, "rbac"),
            "roleRef": {"apiGroup": "rbac.authorization.k8s.io", "kind": "Role", "name": SERVICE_ACCOUNT},
            "subjects": [{"kind": "ServiceAccount", "name": SERVICE_ACCOUNT, "namespace": p.namespace()}],
        }),
    ]
}

fn conf_json(c: &Conf) -> Value {
    Value::Object(c.iter().map(|(k, s)| (k.clone(), Value::String(s.value.clone()))).collect())
}

fn resource(memory: &str, cpu: f64) -> Value {
    json!({"memory": memory, "cpu": cpu})
}

/// The pod template: the metrics port for the PodMonitor, and the SQL scripts (ConfigMaps,
/// projected into one directory) of the jobs that run in these pods.
fn pod_template(p: &EnvPlan<'_>, sql_jobs: &[&str]) -> Value {
    let port: u16 = p.env.metrics.port.parse().unwrap_or(9249);
    let mut container = json!({
        "name": "flink-main-container",
        "ports": [{"name": "metrics", "containerPort": port, "protocol": "TCP"}],
    });
    let mut spec = json!({});
    if !sql_jobs.is_empty() {
        container["volumeMounts"] = json!([{"name": "sql", "mountPath": SQL_MOUNT, "readOnly": true}]);
        let sources: Vec<Value> = sql_jobs.iter().map(|j| json!({"configMap": {"name": sql_configmap_name(j)}})).collect();
        spec["volumes"] = json!([{"name": "sql", "projected": {"sources": sources}}]);
    }
    spec["containers"] = json!([container]);
    json!({"apiVersion": "v1", "kind": "Pod", "spec": spec})
}

fn sql_configmap_name(job: &str) -> String {
    format!("{job}-sql")
}

fn job_spec(p: &EnvPlan<'_>, j: &JobPlan<'_>) -> Value {
    let (jar, entry, args) = match (&j.job.jar, &p.env.sql_runner) {
        (Some(jar), _) => (jar.clone(), j.job.entry_class.clone(), j.job.args.clone()),
        (None, Some(runner)) => {
            let mut args = vec![format!("{SQL_MOUNT}/{}.sql", j.name)];
            args.extend(j.job.args.iter().cloned());
            (runner.jar.clone(), runner.entry_class.clone(), args)
        }
        (None, None) => (String::new(), None, Vec::new()),
    };
    let mut spec = json!({
        "jarURI": jar,
        "parallelism": j.parallelism,
        "upgradeMode": j.job.upgrade_mode.crd(),
        "state": "running",
    });
    if let Some(e) = entry {
        spec["entryClass"] = json!(e);
    }
    if !args.is_empty() {
        spec["args"] = json!(args);
    }
    spec
}

/// The FlinkDeployment of one job (application mode).
pub fn application(p: &EnvPlan<'_>, j: &JobPlan<'_>) -> Value {
    let mut conf = p.conf.clone();
    conf.extend(j.conf.clone());
    let sql_jobs: Vec<&str> = j.job.sql.iter().map(|_| j.name).collect();
    json!({
        "apiVersion": "flink.apache.org/v1beta1",
        "kind": "FlinkDeployment",
        "metadata": meta(p, j.name, "flink"),
        "spec": {
            "image": p.image(),
            "flinkVersion": p.crd_version(),
            "mode": "native",
            "serviceAccount": SERVICE_ACCOUNT,
            "flinkConfiguration": conf_json(&conf),
            "podTemplate": pod_template(p, &sql_jobs),
            "jobManager": {"replicas": p.env.job_manager.replicas, "resource": resource(&p.env.job_manager.memory, p.env.job_manager.cpu)},
            "taskManager": {"resource": resource(&p.env.task_manager.memory, p.env.task_manager.cpu)},
            "job": job_spec(p, j),
        },
    })
}

/// The name of an environment's session cluster.
pub fn session_name(p: &EnvPlan<'_>) -> String {
    format!("{}-session", p.name)
}

/// The session FlinkDeployment of an environment (no job).
pub fn session(p: &EnvPlan<'_>) -> Value {
    let sql_jobs: Vec<&str> = p.jobs.iter().filter(|j| j.job.sql.is_some()).map(|j| j.name).collect();
    json!({
        "apiVersion": "flink.apache.org/v1beta1",
        "kind": "FlinkDeployment",
        "metadata": meta(p, &session_name(p), "flink"),
        "spec": {
            "image": p.image(),
            "flinkVersion": p.crd_version(),
            "mode": "native",
            "serviceAccount": SERVICE_ACCOUNT,
            "flinkConfiguration": conf_json(&p.conf),
            "podTemplate": pod_template(p, &sql_jobs),
            "jobManager": {"replicas": p.env.job_manager.replicas, "resource": resource(&p.env.job_manager.memory, p.env.job_manager.cpu)},
            "taskManager": {"replicas": p.env.task_manager.replicas, "resource": resource(&p.env.task_manager.memory, p.env.task_manager.cpu)},
        },
    })
}

/// The FlinkSessionJob of one job (session mode).
pub fn session_job(p: &EnvPlan<'_>, j: &JobPlan<'_>) -> Value {
    json!({
        "apiVersion": "flink.apache.org/v1beta1",
        "kind": "FlinkSessionJob",
        "metadata": meta(p, j.name, "flink"),
        "spec": {
            "deploymentName": session_name(p),
            "flinkConfiguration": conf_json(&j.conf),
            "job": job_spec(p, j),
        },
    })
}

/// The ConfigMap holding a SQL job's script.
pub fn sql_configmap(p: &EnvPlan<'_>, j: &JobPlan<'_>) -> Option<Value> {
    let text = j.sql.as_ref()?;
    Some(json!({
        "apiVersion": "v1",
        "kind": "ConfigMap",
        "metadata": meta(p, &sql_configmap_name(j.name), "flink"),
        "data": {format!("{}.sql", j.name): text},
    }))
}

/// Values for the official `flink-kubernetes-operator` Helm chart: watch this environment's
/// namespace; the chart's own job service account and role are off (rendered above, narrower).
pub fn helm_values(p: &EnvPlan<'_>) -> Value {
    json!({
        "image": {"repository": "ghcr.io/apache/flink-kubernetes-operator", "tag": p.env.operator.version},
        "watchNamespaces": [p.namespace()],
        "rbac": {
            "create": true,
            "jobRole": {"create": false},
            "jobRoleBinding": {"create": false},
        },
        "jobServiceAccount": {"create": false, "name": SERVICE_ACCOUNT},
        "defaultConfiguration": {
            "create": true,
            "append": true,
            "config.yaml": "kubernetes.operator.metrics.reporter.prom.factory.class: org.apache.flink.metrics.prometheus.PrometheusReporterFactory\nkubernetes.operator.metrics.reporter.prom.port: 9999\n",
        },
        "metrics": {"port": 9999},
    })
}

/// Every Kubernetes object file of the environment, path → YAML.
pub fn files(p: &EnvPlan<'_>) -> Vec<(String, String)> {
    use super::emit::{yaml, yaml_docs};
    let mut out = vec![
        ("kubernetes/namespace.yaml".to_string(), yaml(&namespace(p))),
        ("kubernetes/rbac.yaml".to_string(), yaml_docs(&rbac(p))),
        (format!("helm/flink-kubernetes-operator-{}.values.yaml", p.env.operator.version), yaml(&helm_values(p))),
    ];
    if p.env.mode == DeploymentMode::Session {
        out.push((format!("kubernetes/flink/{}.yaml", session_name(p)), yaml(&session(p))));
    }
    for j in &p.jobs {
        let obj = match p.env.mode {
            DeploymentMode::Application => application(p, j),
            DeploymentMode::Session => session_job(p, j),
        };
        out.push((format!("kubernetes/flink/{}.yaml", j.name), yaml(&obj)));
        if let Some(cm) = sql_configmap(p, j) {
            out.push((format!("kubernetes/flink/{}-sql.yaml", j.name), yaml(&cm)));
        }
    }
    out
}
