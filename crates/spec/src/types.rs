//! The platform spec (`flinkops.yaml`) as Rust types. Their doc comments are the reference:
//! `flinkops spec schema` prints the JSON Schema generated from them and `docs/spec.md` is
//! written from the same text. Every struct denies unknown fields; Flink values are strings
//! (YAML `yes`/`on` stay strings, as Flink 2.x reads them).

use std::collections::BTreeMap;

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

/// One platform: its environments, the jobs that run in them and where alerts go.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct Spec {
    /// Name of the platform (a lowercase DNS label). Every rendered object carries it in the
    /// label `app.kubernetes.io/part-of`.
    pub platform: String,
    /// Environments by name (`production`, `staging`, …): where and how Flink runs.
    pub environments: BTreeMap<String, Environment>,
    /// Jobs by name (a lowercase DNS label; it is also the Flink job name, `pipeline.name`).
    #[serde(default)]
    pub jobs: BTreeMap<String, Job>,
    /// Alert channels and routing.
    #[serde(default)]
    pub alerting: Alerting,
}

/// Where an environment's Flink runs.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "lowercase")]
pub enum Target {
    /// A Kubernetes namespace managed by the official Flink Kubernetes Operator.
    Kubernetes,
    /// An existing standalone session cluster, reached at `restUrl`.
    Standalone,
    /// The embedded local cluster of `flinkops local up`.
    Local,
}

/// How jobs map to Flink clusters on Kubernetes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "lowercase")]
pub enum DeploymentMode {
    /// One FlinkDeployment per job (application mode; isolation, the operator's default).
    #[default]
    Application,
    /// One session FlinkDeployment per environment and a FlinkSessionJob per job.
    Session,
}

/// One environment.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct Environment {
    /// `kubernetes`, `standalone` or `local`.
    pub target: Target,
    /// Kubernetes namespace (required for `target: kubernetes`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub namespace: Option<String>,
    /// REST URL of the session cluster (required for `target: standalone`). On `kubernetes`
    /// (optional): where `flinkops serve` reaches each deployment's JobManager REST API, with
    /// `{name}` (the FlinkDeployment) and `{namespace}` filled in — e.g.
    /// `http://{name}-rest.{namespace}.svc:8081` when serve runs in the cluster; serve then
    /// observes checkpoints and job state there, not only the operator's status.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub rest_url: Option<String>,
    /// Flink version (`2.2`, `2.2.0`). On Kubernetes the operator (1.15) supports up to 2.2.
    pub flink_version: String,
    /// Container image (Kubernetes). Default: `flink:<flinkVersion>`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub image: Option<String>,
    /// `application` (a FlinkDeployment per job, default) or `session` (Kubernetes only).
    #[serde(default)]
    pub mode: DeploymentMode,
    /// Where checkpoints, savepoints and HA metadata go.
    #[serde(default)]
    pub storage: Storage,
    /// JobManager resources.
    #[serde(default)]
    pub job_manager: JobManagerResources,
    /// TaskManager resources and slots.
    #[serde(default)]
    pub task_manager: TaskManagerResources,
    /// Default parallelism of jobs (`parallelism.default`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub parallelism: Option<u32>,
    /// State backend: `rocksdb` (default; incremental checkpoints) or `hashmap` (on heap).
    #[serde(default)]
    pub state_backend: StateBackend,
    /// Checkpointing. Omit to leave checkpointing off.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub checkpointing: Option<Checkpointing>,
    /// Tuning profile applied before the overrides.
    #[serde(default)]
    pub profile: Profile,
    /// Flink configuration overrides (flat Flink keys → string values); they win over
    /// everything above except where they contradict a typed field, which is an error.
    #[serde(default)]
    pub flink_configuration: BTreeMap<String, String>,
    /// How SQL jobs run on Kubernetes: a runner jar in the image that executes a script.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sql_runner: Option<SqlRunner>,
    /// Prometheus reporter and scraping.
    #[serde(default)]
    pub metrics: Metrics,
    /// The Flink Kubernetes Operator installation (Helm values).
    #[serde(default)]
    pub operator: Operator,
    /// Per-rule alert adjustments (`FlinkJobNotRunning: {for: 30s}`); rule names are those in
    /// `docs/runbooks/`.
    #[serde(default)]
    pub alerts: BTreeMap<String, AlertOverride>,
}

/// Storage locations (any Flink file system URI: `s3://`, `gs://`, `file://`, …).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct Storage {
    /// Checkpoint directory (`execution.checkpointing.dir`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub checkpoints: Option<String>,
    /// Savepoint directory (`execution.checkpointing.savepoint-dir`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub savepoints: Option<String>,
    /// High-availability storage directory; setting it turns Kubernetes HA on.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ha: Option<String>,
}

/// JobManager resources.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct JobManagerResources {
    /// Number of JobManagers (more than one needs `storage.ha`).
    #[serde(default = "one")]
    pub replicas: u32,
    /// Process memory (`1g`, `2048m`): Flink memory-size syntax.
    #[serde(default = "default_jm_memory")]
    pub memory: String,
    /// CPU cores (a number: `1`, `0.5`; not `1000m`).
    #[serde(default = "one_cpu")]
    pub cpu: f64,
}

impl Default for JobManagerResources {
    fn default() -> Self {
        Self { replicas: 1, memory: default_jm_memory(), cpu: 1.0 }
    }
}

/// TaskManager resources.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct TaskManagerResources {
    /// Number of TaskManagers (session mode; application mode sizes them from parallelism).
    #[serde(default = "one")]
    pub replicas: u32,
    /// Process memory (`4g`, `4096m`).
    #[serde(default = "default_tm_memory")]
    pub memory: String,
    /// CPU cores (a number).
    #[serde(default = "one_cpu")]
    pub cpu: f64,
    /// Task slots per TaskManager (`taskmanager.numberOfTaskSlots`).
    #[serde(default = "one")]
    pub slots: u32,
    /// `local` targets: the most TaskManagers serve's autoscaler may run. When a job it scales
    /// up needs more slots than the cluster has free, it starts TaskManagers up to this many;
    /// TaskManagers beyond `replicas` that stay idle are stopped again. Default: `replicas`
    /// (the cluster never grows).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub max_replicas: Option<u32>,
}

impl Default for TaskManagerResources {
    fn default() -> Self {
        Self { replicas: 1, memory: default_tm_memory(), cpu: 1.0, slots: 1, max_replicas: None }
    }
}

fn one() -> u32 {
    1
}
fn one_cpu() -> f64 {
    1.0
}
fn default_jm_memory() -> String {
    "1g".into()
}
fn default_tm_memory() -> String {
    "2g".into()
}

/// State backend.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "lowercase")]
pub enum StateBackend {
    /// RocksDB with incremental checkpoints.
    #[default]
    Rocksdb,
    /// Objects on the JVM heap (small state only).
    Hashmap,
}

/// Checkpointing settings.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct Checkpointing {
    /// Interval between checkpoints (Flink duration: `60s`, `2 min`).
    pub interval: String,
    /// `exactly-once` (default) or `at-least-once`.
    #[serde(default)]
    pub mode: CheckpointMode,
    /// Time after which a checkpoint is aborted.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub timeout: Option<String>,
    /// Minimum pause between checkpoints.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub min_pause: Option<String>,
    /// Unaligned checkpoints (exactly-once only).
    #[serde(default)]
    pub unaligned: bool,
    /// Alert when no checkpoint completed within this many intervals (default 3).
    #[serde(default = "default_missed")]
    pub alert_after_missed: u32,
}

fn default_missed() -> u32 {
    3
}

/// Checkpointing mode.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "kebab-case")]
pub enum CheckpointMode {
    /// Exactly-once state consistency.
    #[default]
    ExactlyOnce,
    /// At-least-once (lower latency; replays may duplicate effects).
    AtLeastOnce,
}

/// Tuning presets.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "kebab-case")]
pub enum Profile {
    /// Flink's defaults plus retained checkpoints.
    #[default]
    Balanced,
    /// Short network buffer timeout.
    LowLatency,
    /// Longer buffer timeout, more network memory.
    HighThroughput,
    /// More managed memory for large RocksDB state.
    MemoryIntensive,
}

/// A SQL runner: a jar in the image whose main class runs the SQL script given as its argument.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct SqlRunner {
    /// URI of the runner jar (`local:///opt/flink/usrlib/sql-runner.jar`).
    pub jar: String,
    /// Its main class, when the jar's manifest has none.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub entry_class: Option<String>,
}

/// Prometheus reporter and scrape targets.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct Metrics {
    /// Port (Kubernetes) or port range (`9249-9260`, local/standalone) of the Prometheus reporter.
    #[serde(default = "default_metrics_port")]
    pub port: String,
    /// Static scrape targets (`host:port`) for `standalone` and `local` environments.
    #[serde(default)]
    pub targets: Vec<String>,
    /// Scrape interval of the rendered Prometheus config.
    #[serde(default = "default_scrape")]
    pub scrape_interval: String,
    /// Rule evaluation interval of the rendered Prometheus config.
    #[serde(default = "default_scrape")]
    pub evaluation_interval: String,
}

impl Default for Metrics {
    fn default() -> Self {
        Self { port: default_metrics_port(), targets: Vec::new(), scrape_interval: default_scrape(), evaluation_interval: default_scrape() }
    }
}

fn default_metrics_port() -> String {
    "9249".into()
}
fn default_scrape() -> String {
    "15s".into()
}

/// The Flink Kubernetes Operator installation.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct Operator {
    /// Operator version (the Helm chart and image tag).
    #[serde(default = "default_operator_version")]
    pub version: String,
    /// Namespace the operator runs in.
    #[serde(default = "default_operator_namespace")]
    pub namespace: String,
}

impl Default for Operator {
    fn default() -> Self {
        Self { version: default_operator_version(), namespace: default_operator_namespace() }
    }
}

fn default_operator_version() -> String {
    "1.15.0".into()
}
fn default_operator_namespace() -> String {
    "flink-operator".into()
}

/// Adjusts one alert rule in one environment.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct AlertOverride {
    /// How long the condition must hold before firing (Prometheus duration: `30s`, `5m`).
    #[serde(default, rename = "for", skip_serializing_if = "Option::is_none")]
    pub for_: Option<String>,
    /// Leave the rule out.
    #[serde(default)]
    pub disabled: bool,
}

/// A Flink job.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct Job {
    /// URI of the job jar (`s3://…`, `local:///opt/flink/usrlib/app.jar`). Exactly one of
    /// `jar` and `sql`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub jar: Option<String>,
    /// Path of a SQL script, relative to the spec file.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sql: Option<String>,
    /// Main class of the jar.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub entry_class: Option<String>,
    /// Program arguments.
    #[serde(default)]
    pub args: Vec<String>,
    /// Parallelism (default: the environment's).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub parallelism: Option<u32>,
    /// How the operator upgrades the job: `savepoint` (default), `last-state` (needs HA) or
    /// `stateless`.
    #[serde(default)]
    pub upgrade_mode: UpgradeMode,
    /// Environments the job runs in (default: all).
    #[serde(default)]
    pub environments: Vec<String>,
    /// Periodic savepoints and their retention (the operator's savepoint history).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub savepoints: Option<SavepointSchedule>,
    /// `flinkops serve`: how long a new version has to run and complete a checkpoint before
    /// its upgrade is rolled back (`5m`). Default: three checkpoint intervals plus a minute, at
    /// least two minutes.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub upgrade_health_timeout: Option<String>,
    /// The operator's autoscaler.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub autoscaler: Option<Autoscaler>,
    /// Where this job's alerts go (default: the channels by severity).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub alerts: Option<JobAlerts>,
    /// Job-level Flink configuration overrides.
    #[serde(default)]
    pub flink_configuration: BTreeMap<String, String>,
}

/// Upgrade mode of the operator.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "kebab-case")]
pub enum UpgradeMode {
    /// Stop with a savepoint and restore from it.
    #[default]
    Savepoint,
    /// Restore from the latest checkpoint (needs HA metadata).
    LastState,
    /// Start empty.
    Stateless,
}

impl UpgradeMode {
    /// The CRD's spelling.
    pub fn crd(self) -> &'static str {
        match self {
            UpgradeMode::Savepoint => "savepoint",
            UpgradeMode::LastState => "last-state",
            UpgradeMode::Stateless => "stateless",
        }
    }
}

/// Periodic savepoints and how many/how long to keep them.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct SavepointSchedule {
    /// Interval of periodic savepoints (`6h`, `1d`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub interval: Option<String>,
    /// Keep at most this many savepoints.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub max_count: Option<u32>,
    /// Delete savepoints older than this (`7d`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub max_age: Option<String>,
}

/// The operator's autoscaler (`job.autoscaler.*`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct Autoscaler {
    /// Turn it on (default true when the section is present).
    #[serde(default = "yes")]
    pub enabled: bool,
    /// Target busy-time utilization of each vertex, 0 < x ≤ 1 (`job.autoscaler.utilization.target`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub target_utilization: Option<f64>,
    /// Lowest vertex parallelism.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub min_parallelism: Option<u32>,
    /// Highest vertex parallelism.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub max_parallelism: Option<u32>,
    /// Metric collection window (`job.autoscaler.metrics.window`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub metrics_window: Option<String>,
    /// No scaling this long after a (re)start (`job.autoscaler.stabilization.interval`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub stabilization_interval: Option<String>,
    /// Delay before scaling down (`job.autoscaler.scale-down.interval`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub scale_down_interval: Option<String>,
}

fn yes() -> bool {
    true
}

/// Alert routing of one job.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct JobAlerts {
    /// Channels (names under `alerting.channels`) that get this job's alerts, each for the
    /// severities it subscribes to.
    pub channels: Vec<String>,
}

/// Alert channels and settings.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct Alerting {
    /// Channels by name.
    #[serde(default)]
    pub channels: BTreeMap<String, Channel>,
    /// Base URL of the runbooks (`<base>/<Rule>.md`). Default: `docs/runbooks`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub runbook_base_url: Option<String>,
}

/// Alert severities.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "lowercase")]
pub enum Severity {
    /// Page someone now.
    Critical,
    /// Look at it today.
    Warning,
    /// For the record.
    Info,
}

impl Severity {
    pub const ALL: [Severity; 3] = [Severity::Critical, Severity::Warning, Severity::Info];

    pub fn as_str(self) -> &'static str {
        match self {
            Severity::Critical => "critical",
            Severity::Warning => "warning",
            Severity::Info => "info",
        }
    }
}

/// One alert channel: exactly one of `slack`, `pagerduty`, `email`, `webhook`, `alertmanager`.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct Channel {
    /// Severities this channel receives.
    #[serde(default)]
    pub severities: Vec<Severity>,
    /// Slack incoming webhook.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub slack: Option<SlackChannel>,
    /// PagerDuty Events API v2.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub pagerduty: Option<PagerDutyChannel>,
    /// E-mail through an SMTP smarthost.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub email: Option<EmailChannel>,
    /// A generic webhook (Alertmanager's webhook payload).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub webhook: Option<WebhookChannel>,
    /// An Alertmanager that Prometheus sends alerts to (the rendered `alertmanager.yaml` is
    /// its configuration).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub alertmanager: Option<AlertmanagerChannel>,
}

/// Slack.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct SlackChannel {
    /// The incoming-webhook URL (a secret reference).
    pub webhook_url: SecretRef,
    /// Channel (`#flink-alerts`).
    pub channel: String,
}

/// PagerDuty.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct PagerDutyChannel {
    /// Events API v2 routing (integration) key (a secret reference).
    pub routing_key: SecretRef,
}

/// E-mail.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct EmailChannel {
    /// Recipients.
    pub to: Vec<String>,
    /// Sender address.
    pub from: String,
    /// SMTP smarthost `host:port`.
    pub smarthost: String,
    /// SMTP user name.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub auth_username: Option<String>,
    /// SMTP password (a secret reference).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub auth_password: Option<SecretRef>,
    /// Require STARTTLS (default true).
    #[serde(default = "yes")]
    pub require_tls: bool,
}

/// Webhook.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct WebhookChannel {
    /// The URL (no credentials in it: user:password@ is refused; use `bearerToken`).
    pub url: String,
    /// Bearer token sent in the Authorization header (a secret reference).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub bearer_token: Option<SecretRef>,
}

/// An Alertmanager endpoint.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct AlertmanagerChannel {
    /// `host:port` targets Prometheus sends alerts to.
    pub targets: Vec<String>,
}

/// A reference to a secret; never the secret itself. Exactly one of `env`, `file`,
/// `kubernetesSecret`.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct SecretRef {
    /// An environment variable of the process that reads it (flinkops itself).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub env: Option<String>,
    /// A file holding the secret (mounted into Alertmanager).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub file: Option<String>,
    /// A key of a Kubernetes Secret in the monitoring namespace.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub kubernetes_secret: Option<SecretKeyRef>,
}

/// A key of a Kubernetes Secret.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct SecretKeyRef {
    /// Secret name.
    pub name: String,
    /// Key inside the Secret.
    pub key: String,
}
