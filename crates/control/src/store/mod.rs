//! The durable store: desired specs and their versions, observed jobs, the checkpoint and
//! savepoint catalog, the intent/audit log, alert state and bounded metric history.
//!
//! [`Store`] is the interface the control loop uses; [`SqlStore`] implements it over SQLite (the
//! default: one WAL-mode file under a directory) and PostgreSQL (`postgres://…`) with the same
//! SQL, through sqlx's `Any` driver. All times are epoch milliseconds (`i64`).
//!
//! Durable intent: a destructive action is written with [`Store::begin_intent`] (state
//! `pending`) before it runs, its progress is saved with [`Store::update_intent_payload`], and it
//! ends with [`Store::finish_intent`]. At most one *exclusive* intent (deploy, upgrade, rollback,
//! recover, suspend) may be pending per job: the store enforces it with a unique index, so two
//! conflicting commands cannot both start — the second gets [`crate::Error::Conflict`].

mod migrations;
mod sql;
#[cfg(test)]
mod tests;

use std::future::Future;

use serde::{Deserialize, Serialize};

pub use migrations::{MIGRATIONS, Migration};
pub use sql::{Backend, SqlStore};

use crate::Result;

/// Defines a string-backed enum with `as_str`, `FromStr` and `Display`, so stored values and
/// their Rust names cannot drift apart.
macro_rules! string_enum {
    ($(#[$m:meta])* $name:ident { $($(#[$vm:meta])* $variant:ident = $s:literal),+ $(,)? }) => {
        $(#[$m])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, ::serde::Serialize, ::serde::Deserialize)]
        #[serde(rename_all = "snake_case")]
        pub enum $name { $($(#[$vm])* $variant),+ }
        impl $name {
            /// Every value, in declaration order.
            pub const ALL: &'static [$name] = &[$($name::$variant),+];
            /// The stored spelling.
            pub fn as_str(self) -> &'static str { match self { $($name::$variant => $s),+ } }
        }
        impl ::std::str::FromStr for $name {
            type Err = String;
            fn from_str(s: &str) -> Result<Self, String> {
                match s { $($s => Ok($name::$variant),)+ other => Err(format!("unknown {} `{other}`", stringify!($name))) }
            }
        }
        impl ::std::fmt::Display for $name {
            fn fmt(&self, f: &mut ::std::fmt::Formatter<'_>) -> ::std::fmt::Result { f.write_str(self.as_str()) }
        }
    };
}
pub(crate) use string_enum;

string_enum! {
    /// Whether a catalog entry is a savepoint (owned by the user) or a retained checkpoint.
    SnapshotKind { Savepoint = "savepoint", Checkpoint = "checkpoint" }
}

string_enum! {
    /// The life of a catalog entry.
    SnapshotStatus {
        /// Triggered, not yet confirmed by Flink.
        InProgress = "in_progress",
        /// Flink reported it complete; it can be restored from.
        Completed = "completed",
        /// Flink reported it failed (its directory may hold partial files).
        Failed = "failed",
        /// Its files were deleted by retention.
        Deleted = "deleted",
    }
}

string_enum! {
    /// The state of an intent in the audit log.
    IntentState {
        Pending = "pending",
        Done = "done",
        Failed = "failed",
        RolledBack = "rolled_back",
    }
}

string_enum! {
    /// What an intent is about to do.
    IntentKind {
        Deploy = "deploy",
        Upgrade = "upgrade",
        Rollback = "rollback",
        Recover = "recover",
        Suspend = "suspend",
        Savepoint = "savepoint",
        DeleteSnapshot = "delete_snapshot",
        /// In place, through the adaptive scheduler.
        Rescale = "rescale",
        /// Stop with a savepoint and submit again at the new parallelism (clusters without the
        /// adaptive scheduler); the payload is an upgrade's, with the same version on both sides.
        RescaleBySavepoint = "rescale_by_savepoint",
    }
}

impl IntentKind {
    /// Exclusive kinds change what runs; at most one may be pending per job.
    pub fn is_exclusive(self) -> bool {
        matches!(self, IntentKind::Deploy | IntentKind::Upgrade | IntentKind::Rollback | IntentKind::Recover | IntentKind::Suspend | IntentKind::RescaleBySavepoint)
    }
}

string_enum! {
    /// State of one alert rule for one job.
    AlertStatus { Pending = "pending", Firing = "firing", Resolved = "resolved" }
}

/// One version of a job's desired spec. Versions count from 1 per job.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SpecVersion {
    pub job: String,
    pub version: i64,
    pub spec_hash: String,
    /// The job's spec as JSON text.
    pub spec: String,
    pub created_at: i64,
}

/// What flinkops last observed of a job on its cluster.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ObservedJob {
    pub job: String,
    pub flink_job_id: Option<String>,
    /// Flink's job state (`RUNNING`, `FAILED`, …) or `ABSENT`.
    pub state: String,
    /// The lifecycle phase ([`crate::lifecycle::Phase`]) as stored.
    pub phase: String,
    /// The spec version the running Flink job was started from.
    pub spec_version: Option<i64>,
    pub last_checkpoint: Option<String>,
    pub last_savepoint: Option<String>,
    /// The savepoint or checkpoint the current Flink job restored from.
    pub restored_from: Option<String>,
    /// `healthy`, `degraded`, `unhealthy` or `unknown`.
    pub health: String,
    pub updated_at: i64,
}

/// One entry of the checkpoint and savepoint catalog.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Snapshot {
    /// Row id (0 for an entry not yet stored).
    pub id: i64,
    /// Its location as Flink reports it (`file:///…`, `s3://…`). Unique in the catalog.
    pub path: String,
    pub kind: SnapshotKind,
    pub job: String,
    pub flink_job_id: Option<String>,
    pub created_at: i64,
    pub status: SnapshotStatus,
    pub size_bytes: Option<i64>,
    /// Kept by retention whatever its age (set by a person or by a deployment pinning it).
    pub protected: bool,
}

/// A new intent, before it is stored.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct NewIntent {
    pub job: String,
    pub kind: IntentKind,
    /// Why (a person's command, a rule, the reconciler).
    pub reason: String,
    /// What exactly, as JSON (the upgrade's progress, the savepoint to delete, …).
    pub payload: serde_json::Value,
    pub created_at: i64,
}

/// One row of the intent/audit log.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Intent {
    pub id: i64,
    pub job: String,
    pub kind: IntentKind,
    pub reason: String,
    pub payload: serde_json::Value,
    pub state: IntentState,
    /// Why it failed or was rolled back.
    pub error: Option<String>,
    pub created_at: i64,
    pub finished_at: Option<i64>,
}

/// The state of one alert rule for one job.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AlertState {
    pub job: String,
    pub rule: String,
    pub status: AlertStatus,
    pub severity: String,
    /// Since when the rule is in this status.
    pub since: i64,
    pub last_notified_at: Option<i64>,
    pub summary: String,
    pub updated_at: i64,
}

/// One sample of a job metric.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct MetricPoint {
    pub ts: i64,
    pub value: f64,
}

/// The result of sending one notification to one channel.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Delivery {
    /// Row id (0 for an entry not yet stored).
    pub id: i64,
    pub job: String,
    pub rule: String,
    pub channel: String,
    /// `slack`, `pagerduty`, `email`, `webhook`, `alertmanager`.
    pub kind: String,
    /// `firing` or `resolved`.
    pub status: String,
    pub ok: bool,
    /// Why it failed (secrets redacted).
    pub error: Option<String>,
    pub attempts: i64,
    pub at: i64,
}

/// One autoscaler decision as stored (the whole computation is in `decision`, JSON).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ScalingRecord {
    pub id: i64,
    pub job: String,
    pub at: i64,
    pub applied: bool,
    pub summary: String,
    pub decision: serde_json::Value,
}

/// The control plane's durable state. Every method is one transaction.
pub trait Store: Send + Sync {
    /// Stores `spec` as the job's newest version unless the newest version has the same hash, in
    /// which case it is returned unchanged (deploying an unchanged spec does nothing). Going
    /// back to an older spec makes a new version: versions are the history of desired changes.
    fn put_spec(&self, job: &str, spec_hash: &str, spec: &str, now: i64) -> impl Future<Output = Result<SpecVersion>> + Send;
    /// The job's newest spec version.
    fn latest_spec(&self, job: &str) -> impl Future<Output = Result<Option<SpecVersion>>> + Send;
    /// One version of a job's spec.
    fn spec_version(&self, job: &str, version: i64) -> impl Future<Output = Result<Option<SpecVersion>>> + Send;
    /// Every version of a job's spec, oldest first.
    fn spec_versions(&self, job: &str) -> impl Future<Output = Result<Vec<SpecVersion>>> + Send;

    /// Inserts or replaces what was observed of a job.
    fn put_observed(&self, observed: &ObservedJob) -> impl Future<Output = Result<()>> + Send;
    fn observed(&self, job: &str) -> impl Future<Output = Result<Option<ObservedJob>>> + Send;
    /// Every observed job, by name.
    fn all_observed(&self) -> impl Future<Output = Result<Vec<ObservedJob>>> + Send;

    /// Adds a catalog entry, or updates the one with the same path (status, size; `protected`
    /// only ever turns on here). Returns the entry as stored.
    fn record_snapshot(&self, snapshot: &Snapshot) -> impl Future<Output = Result<Snapshot>> + Send;
    fn set_snapshot_status(&self, path: &str, status: SnapshotStatus) -> impl Future<Output = Result<()>> + Send;
    fn set_snapshot_protected(&self, path: &str, protected: bool) -> impl Future<Output = Result<()>> + Send;
    /// A job's catalog, newest first (ties by id, newest first).
    fn snapshots(&self, job: &str) -> impl Future<Output = Result<Vec<Snapshot>>> + Send;

    /// Records an intent as pending; fails with [`crate::Error::Conflict`] when the kind is
    /// exclusive and another exclusive intent of the job is pending.
    fn begin_intent(&self, intent: &NewIntent) -> impl Future<Output = Result<Intent>> + Send;
    /// Saves an intent's progress (only while it is pending).
    fn update_intent_payload(&self, id: i64, payload: &serde_json::Value) -> impl Future<Output = Result<()>> + Send;
    /// Ends a pending intent as done, failed or rolled back.
    fn finish_intent(&self, id: i64, state: IntentState, error: Option<&str>, now: i64) -> impl Future<Output = Result<Intent>> + Send;
    fn intent(&self, id: i64) -> impl Future<Output = Result<Option<Intent>>> + Send;
    /// Pending intents, oldest first (all jobs when `job` is None): what a restart must resume.
    fn pending_intents(&self, job: Option<&str>) -> impl Future<Output = Result<Vec<Intent>>> + Send;
    /// A job's newest intents, newest first.
    fn intents(&self, job: &str, limit: i64) -> impl Future<Output = Result<Vec<Intent>>> + Send;

    fn put_alert(&self, alert: &AlertState) -> impl Future<Output = Result<()>> + Send;
    fn alerts(&self, job: &str) -> impl Future<Output = Result<Vec<AlertState>>> + Send;
    /// Every job's alerts, by job and rule.
    fn all_alerts(&self) -> impl Future<Output = Result<Vec<AlertState>>> + Send;

    /// Appends a sample and keeps only the newest `keep` samples of that job's metric.
    fn record_metric(&self, job: &str, metric: &str, point: MetricPoint, keep: i64) -> impl Future<Output = Result<()>> + Send;
    /// A job metric's history, oldest first.
    fn metric_history(&self, job: &str, metric: &str) -> impl Future<Output = Result<Vec<MetricPoint>>> + Send;

    /// Sets (Some) or removes (None) one durable per-job value: settings and requests that a
    /// restart must see (suspended, pinned version, breaker state).
    fn put_meta(&self, job: &str, key: &str, value: Option<&serde_json::Value>, now: i64) -> impl Future<Output = Result<()>> + Send;
    fn meta(&self, job: &str, key: &str) -> impl Future<Output = Result<Option<serde_json::Value>>> + Send;
    /// Every durable value of a job in one query (a reconcile step reads them all at once).
    fn all_meta(&self, job: &str) -> impl Future<Output = Result<std::collections::BTreeMap<String, serde_json::Value>>> + Send;

    /// Records a notification's delivery result; keeps the newest `keep` rows overall.
    fn record_delivery(&self, d: &Delivery, keep: i64) -> impl Future<Output = Result<()>> + Send;
    /// Newest deliveries first (all jobs when `job` is None).
    fn deliveries(&self, job: Option<&str>, limit: i64) -> impl Future<Output = Result<Vec<Delivery>>> + Send;

    /// Records an autoscaler decision; keeps the newest `keep` per job.
    fn record_scaling(&self, r: &ScalingRecord, keep: i64) -> impl Future<Output = Result<()>> + Send;
    /// A job's newest decisions first.
    fn scalings(&self, job: &str, limit: i64) -> impl Future<Output = Result<Vec<ScalingRecord>>> + Send;
}

/// Milliseconds since the Unix epoch, now.
pub fn now_ms() -> i64 {
    std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map(|d| i64::try_from(d.as_millis()).unwrap_or(i64::MAX)).unwrap_or(0)
}

#[cfg(test)]
mod enum_tests {
    use super::*;

    #[test]
    fn stored_spellings_round_trip() {
        for k in IntentKind::ALL {
            assert_eq!(k.as_str().parse::<IntentKind>(), Ok(*k));
        }
        for s in IntentState::ALL {
            assert_eq!(s.as_str().parse::<IntentState>(), Ok(*s));
        }
        for s in SnapshotStatus::ALL {
            assert_eq!(s.as_str().parse::<SnapshotStatus>(), Ok(*s));
        }
        assert!("paused".parse::<IntentState>().is_err());
        assert!(IntentKind::Upgrade.is_exclusive());
        assert!(!IntentKind::DeleteSnapshot.is_exclusive());
        assert!(!IntentKind::Savepoint.is_exclusive());
    }
}
