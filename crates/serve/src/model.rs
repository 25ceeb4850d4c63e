//! From a platform spec to what serve manages: environments (where Flink runs) and managed jobs
//! (a job in one environment), each with the [`RuntimeSpec`] a version runs. Pure except for
//! [`load`], which reads the spec file and its SQL scripts.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use flinkops_config::units;
use flinkops_spec::plan::{self, EnvPlan};
use flinkops_spec::types::{AlertOverride, Alerting, Target};
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use crate::{Error, Result};

/// What a version of a job runs. Stored as the spec version's JSON; its hash identifies the
/// version (and is part of the Flink job's name), so anything that changes what runs is in here.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RuntimeSpec {
    pub flink_version: String,
    pub program: Program,
    pub parallelism: u32,
    /// Job-level Flink configuration (applied as the job's configuration on submit).
    pub config: BTreeMap<String, String>,
}

/// The program of a job.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum Program {
    /// A SQL script, run by flinkops's SQL runner (its text is part of the version).
    Sql { script: String },
    /// A jar on the machine serve runs on.
    Jar { path: String, entry_class: Option<String>, args: Vec<String> },
}

impl RuntimeSpec {
    /// SHA-256 of the canonical JSON (maps are ordered), hex.
    pub fn hash(&self) -> String {
        let bytes = serde_json::to_vec(self).unwrap_or_default();
        hex::encode(Sha256::digest(&bytes))
    }

    pub fn to_json(&self) -> String {
        serde_json::to_string(self).unwrap_or_default()
    }

    pub fn from_json(text: &str) -> Result<RuntimeSpec> {
        serde_json::from_str(text).map_err(|e| Error::Corrupt(format!("a stored spec version does not read as a job: {e}")))
    }
}

/// Periodic savepoints and their retention.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SavepointPolicy {
    pub interval_ms: Option<i64>,
    pub max_count: usize,
    pub max_age_ms: Option<i64>,
}

/// A local environment's cluster.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct LocalEnv {
    /// The cluster's name under `$FLINKOPS_HOME/clusters/`.
    pub cluster: String,
    pub taskmanagers: u32,
    /// The most TaskManagers the autoscaler may run (`taskManager.maxReplicas`; at least
    /// `taskmanagers`).
    #[serde(default)]
    pub max_taskmanagers: u32,
    pub slots: u32,
    pub jobmanager_memory: String,
    pub taskmanager_memory: String,
    /// The environment's Flink configuration (profile, checkpointing, overrides).
    pub config: BTreeMap<String, String>,
}

/// One environment as serve sees it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct EnvSpec {
    pub name: String,
    pub target: String,
    pub flink_version: String,
    /// The REST URL (standalone: from the spec; local: known once the cluster runs).
    pub rest_url: Option<String>,
    pub local: Option<LocalEnv>,
    /// Where savepoints go (None: the cluster's default).
    pub savepoint_dir: Option<String>,
    /// Where retained checkpoints are (None: the cluster's default, local clusters only).
    pub checkpoint_dir: Option<String>,
}

/// A job in one environment.
#[derive(Debug, Clone, PartialEq)]
pub struct ManagedJob {
    /// `env/job`: the key in the store and the API.
    pub key: String,
    pub env: String,
    pub job: String,
    pub runtime: RuntimeSpec,
    pub savepoints: Option<SavepointPolicy>,
    pub checkpoint_interval_ms: Option<i64>,
    /// A running job whose last checkpoint is older than this is recovered.
    pub checkpoint_stale_after_ms: Option<i64>,
    pub upgrade_health_timeout_ms: i64,
    pub alert_channels: Vec<String>,
    pub alert_overrides: BTreeMap<String, AlertOverride>,
    /// serve's autoscaler (the spec's `autoscaler` section, enabled; local and standalone
    /// targets). Not part of what runs: changing it changes no version.
    pub autoscaler: Option<flinkops_autoscale::Settings>,
}

/// Everything serve manages, from one spec file.
#[derive(Debug, Clone)]
pub struct Platform {
    pub spec_path: PathBuf,
    pub platform: String,
    pub envs: BTreeMap<String, EnvSpec>,
    pub jobs: Vec<ManagedJob>,
    pub alerting: Alerting,
    /// Health-rule settings per environment (its `alerts` overrides, `alertAfterMissed`, labels).
    pub rule_settings: BTreeMap<String, flinkops_notify::RuleSettings>,
    /// `target: kubernetes` environments (the operator reconciles Flink there).
    pub kube_envs: Vec<crate::kube::KubeEnv>,
}

impl Platform {
    pub fn job(&self, key: &str) -> Option<&ManagedJob> {
        self.jobs.iter().find(|j| j.key == key)
    }
}

/// The store key of a job in an environment.
pub fn job_key(env: &str, job: &str) -> String {
    format!("{env}/{job}")
}

/// How long a new version has to run and complete a checkpoint before an upgrade rolls back:
/// three checkpoint intervals plus a minute for the start, at least two minutes.
pub fn health_timeout_ms(checkpoint_interval_ms: Option<i64>) -> i64 {
    checkpoint_interval_ms.map_or(120_000, |i| (3 * i + 60_000).max(120_000))
}

fn ms(text: &str, what: &str) -> Result<i64> {
    units::parse_duration(text).map(|d| i64::try_from(d.as_millis()).unwrap_or(i64::MAX)).map_err(|e| Error::Input(format!("{what}: `{text}` is not a duration: {e}")))
}

/// Keys of a job's spec-level configuration that only the Kubernetes operator reads.
fn operator_only(key: &str) -> bool {
    key.starts_with("kubernetes.operator.") || key.starts_with("job.autoscaler.")
}

/// Reads the spec and its SQL scripts and plans every environment. Errors carry the spec's
/// diagnostics (file:line:col and how to fix).
pub fn load(spec_path: &Path) -> Result<Platform> {
    let text = flinkops_spec::output::read_spec(spec_path).map_err(|e| Error::Input(e.to_string()))?;
    let name = spec_path.display().to_string();
    let parsed = flinkops_spec::parse(&name, &text).map_err(diagnostics)?;
    let dir = match spec_path.parent() {
        Some(p) if !p.as_os_str().is_empty() => p.to_path_buf(),
        _ => PathBuf::from("."),
    };
    let sql = flinkops_spec::output::load_sql(&parsed, &dir).map_err(diagnostics)?;
    let mut envs = BTreeMap::new();
    let mut jobs = Vec::new();
    let mut kube_envs = Vec::new();
    for env_name in parsed.spec.environments.keys() {
        let (p, _warnings) = plan::plan(&parsed, env_name, &sql).map_err(diagnostics)?;
        if p.env.target == Target::Kubernetes {
            // The operator reconciles Flink there: serve applies the rendered objects and
            // observes the operator's status (crate::kube).
            let rendered = flinkops_spec::render::render(&parsed, env_name, &sql).map_err(diagnostics)?;
            let names: Vec<String> = p.jobs.iter().map(|j| j.name.to_string()).collect();
            kube_envs.push(crate::kube::KubeEnv::new(env_name, &rendered.bundle.files, &names, p.env.rest_url.as_deref())?);
            continue;
        }
        envs.insert(env_name.clone(), env_spec(&parsed.spec.platform, &p));
        for j in &p.jobs {
            jobs.push(managed_job(&p, j, &dir)?);
        }
    }
    let mut rule_settings = BTreeMap::new();
    for env_name in envs.keys() {
        let s =
            flinkops_notify::RuleSettings::for_environment(&parsed.spec, env_name).map_err(|e| Error::Input(format!("{}: environment `{env_name}`: {e}", spec_path.display())))?;
        rule_settings.insert(env_name.clone(), s);
    }
    Ok(Platform { spec_path: spec_path.to_path_buf(), platform: parsed.spec.platform.clone(), envs, jobs, alerting: parsed.spec.alerting.clone(), rule_settings, kube_envs })
}

fn diagnostics(d: Vec<flinkops_spec::Diagnostic>) -> Error {
    let errors: Vec<String> = d.iter().filter(|x| x.level == flinkops_spec::Level::Error).map(ToString::to_string).collect();
    let shown = if errors.is_empty() { d.iter().map(ToString::to_string).collect() } else { errors };
    Error::Input(format!("the spec has errors:\n{}", shown.join("\n")))
}

fn env_spec(platform: &str, p: &EnvPlan<'_>) -> EnvSpec {
    let env = p.env;
    let config: BTreeMap<String, String> = p.conf.iter().map(|(k, s)| (k.clone(), s.value.clone())).collect();
    let local = (env.target == Target::Local).then(|| LocalEnv {
        cluster: format!("{platform}-{}", p.name),
        taskmanagers: env.task_manager.replicas,
        max_taskmanagers: env.task_manager.max_replicas.unwrap_or(env.task_manager.replicas).max(env.task_manager.replicas),
        slots: env.task_manager.slots,
        jobmanager_memory: env.job_manager.memory.clone(),
        taskmanager_memory: env.task_manager.memory.clone(),
        config: config.clone(),
    });
    EnvSpec {
        name: p.name.to_string(),
        target: match env.target {
            Target::Local => "local",
            Target::Standalone => "standalone",
            Target::Kubernetes => "kubernetes",
        }
        .to_string(),
        flink_version: env.flink_version.clone(),
        rest_url: env.rest_url.clone(),
        local,
        savepoint_dir: env.storage.savepoints.clone(),
        checkpoint_dir: env.storage.checkpoints.clone(),
    }
}

fn managed_job(p: &EnvPlan<'_>, j: &plan::JobPlan<'_>, spec_dir: &Path) -> Result<ManagedJob> {
    let key = job_key(p.name, j.name);
    let program = match (&j.sql, &j.job.jar) {
        (Some(script), _) => Program::Sql { script: script.clone() },
        (None, Some(jar)) => {
            let path = jar.strip_prefix("file://").or_else(|| jar.strip_prefix("local://")).unwrap_or(jar);
            let path = if Path::new(path).is_absolute() { PathBuf::from(path) } else { spec_dir.join(path) };
            Program::Jar { path: path.display().to_string(), entry_class: j.job.entry_class.clone(), args: j.job.args.clone() }
        }
        (None, None) => {
            return Err(Error::Input(format!("job `{}` has neither `jar` nor `sql`", j.name)));
        }
    };
    let config: BTreeMap<String, String> = j.conf.iter().filter(|(k, _)| !operator_only(k)).map(|(k, s)| (k.clone(), s.value.clone())).collect();
    let checkpoint_interval_ms = match &p.env.checkpointing {
        Some(c) => Some(ms(&c.interval, &format!("environments.{}.checkpointing.interval", p.name))?),
        None => None,
    };
    let checkpoint_stale_after_ms = match (&p.env.checkpointing, checkpoint_interval_ms) {
        (Some(c), Some(i)) => Some(i64::from(c.alert_after_missed.max(3)) * i + 60_000),
        _ => None,
    };
    let savepoints = match &j.job.savepoints {
        None => None,
        Some(s) => Some(SavepointPolicy {
            interval_ms: s.interval.as_deref().map(|v| ms(v, &format!("jobs.{}.savepoints.interval", j.name))).transpose()?,
            max_count: s.max_count.map_or(5, |n| n as usize).max(1),
            max_age_ms: s.max_age.as_deref().map(|v| ms(v, &format!("jobs.{}.savepoints.maxAge", j.name))).transpose()?,
        }),
    };
    Ok(ManagedJob {
        key,
        env: p.name.to_string(),
        job: j.name.to_string(),
        runtime: RuntimeSpec { flink_version: p.env.flink_version.clone(), program, parallelism: j.parallelism, config },
        savepoints,
        checkpoint_interval_ms,
        checkpoint_stale_after_ms,
        upgrade_health_timeout_ms: match &j.job.upgrade_health_timeout {
            Some(t) => ms(t, &format!("jobs.{}.upgradeHealthTimeout", j.name))?,
            None => health_timeout_ms(checkpoint_interval_ms),
        },
        alert_channels: j.job.alerts.as_ref().map(|a| a.channels.clone()).unwrap_or_default(),
        alert_overrides: p.env.alerts.clone(),
        autoscaler: match &j.job.autoscaler {
            Some(a) if a.enabled => Some(crate::autoscale::settings(a).map_err(|e| Error::Input(format!("jobs.{}.{e}", j.name)))?),
            _ => None,
        },
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn spec(sql: &str) -> RuntimeSpec {
        RuntimeSpec { flink_version: "2.3".into(), program: Program::Sql { script: sql.into() }, parallelism: 1, config: BTreeMap::new() }
    }

    #[test]
    fn the_hash_changes_with_what_runs_and_only_then() {
        let a = spec("INSERT INTO x SELECT 1");
        assert_eq!(a.hash(), spec("INSERT INTO x SELECT 1").hash());
        assert_ne!(a.hash(), spec("INSERT INTO x SELECT 2").hash());
        let mut b = a.clone();
        b.parallelism = 2;
        assert_ne!(a.hash(), b.hash());
        let mut c = a.clone();
        c.config.insert("pipeline.object-reuse".into(), "true".into());
        assert_ne!(a.hash(), c.hash());
        assert_eq!(a.hash().len(), 64);
        assert_eq!(RuntimeSpec::from_json(&a.to_json()).expect("round trip"), a);
        assert!(RuntimeSpec::from_json("{}").is_err());
    }

    #[test]
    fn timeouts_follow_the_checkpoint_interval() {
        assert_eq!(health_timeout_ms(None), 120_000);
        assert_eq!(health_timeout_ms(Some(5_000)), 120_000);
        assert_eq!(health_timeout_ms(Some(60_000)), 240_000);
    }

    #[test]
    fn the_example_spec_loads_into_managed_jobs() {
        let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../examples/local/flinkops.yaml");
        let p = load(&path).expect("example spec loads");
        assert_eq!(p.envs.len(), 1);
        let env = &p.envs["local"];
        assert_eq!(env.target, "local");
        let local = env.local.as_ref().expect("a local cluster");
        assert_eq!(local.cluster, "demo-local");
        assert_eq!(p.jobs.len(), 1);
        let j = &p.jobs[0];
        assert_eq!(j.key, "local/flinkops-demo");
        assert!(matches!(&j.runtime.program, Program::Sql { script } if script.contains("INSERT")));
        assert_eq!(j.checkpoint_interval_ms, Some(5_000));
        assert!(j.runtime.config.keys().all(|k| !operator_only(k)), "{:?}", j.runtime.config);
    }

    #[test]
    fn a_broken_spec_says_where() {
        let dir = tempfile::tempdir().expect("tmp");
        let f = dir.path().join("flinkops.yaml");
        std::fs::write(&f, "platform: x\nenvironments:\n  dev: {target: local, flinkVersion: \"9.9\"}\n").expect("write");
        let e = load(&f).expect_err("unknown version").to_string();
        assert!(e.contains("flinkops.yaml:3:") && e.contains("9.9"), "{e}");
    }
}
