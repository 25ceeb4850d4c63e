//! Open enums for Flink's string-valued states: [`JobState`], [`ExecutionState`],
//! [`CheckpointStatus`], [`OperationStatus`], [`SavepointFormat`], [`RecoveryClaimMode`].
//!
//! Each has an `Unknown(String)` fallback, so a value added by a newer Flink decodes instead of
//! failing, and round-trips unchanged.

use std::fmt;

use serde::{Deserialize, Deserializer, Serialize, Serializer};

macro_rules! open_enum {
    (
        $(#[$m:meta])*
        pub enum $name:ident {
            $( $(#[$vm:meta])* $variant:ident = $s:literal, )+
        }
    ) => {
        $(#[$m])*
        #[derive(Debug, Clone, PartialEq, Eq, Hash)]
        #[non_exhaustive]
        pub enum $name {
            $( $(#[$vm])* $variant, )+
            /// A value this client does not know (from a newer Flink), kept verbatim.
            Unknown(String),
        }

        impl $name {
            /// The value as Flink spells it.
            pub fn as_str(&self) -> &str {
                match self {
                    $( $name::$variant => $s, )+
                    $name::Unknown(s) => s,
                }
            }

            /// Maps Flink's spelling (case-insensitively) to a variant; never fails.
            pub fn from_flink(s: &str) -> Self {
                $( if s.eq_ignore_ascii_case($s) { return $name::$variant; } )+
                $name::Unknown(s.to_owned())
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(self.as_str())
            }
        }

        impl Serialize for $name {
            fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
                s.serialize_str(self.as_str())
            }
        }

        impl<'de> Deserialize<'de> for $name {
            fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
                let s = String::deserialize(d)?;
                Ok($name::from_flink(&s))
            }
        }
    };
}

open_enum! {
    /// A job's status (Flink's `JobStatus`).
    pub enum JobState {
        /// Being initialized (submission accepted, job master starting).
        Initializing = "INITIALIZING",
        /// Created, not yet scheduled.
        Created = "CREATED",
        /// Running.
        Running = "RUNNING",
        /// Failing; will restart or fail.
        Failing = "FAILING",
        /// Failed terminally.
        Failed = "FAILED",
        /// Being canceled.
        Cancelling = "CANCELLING",
        /// Canceled.
        Canceled = "CANCELED",
        /// Finished (also after stop-with-savepoint).
        Finished = "FINISHED",
        /// Restarting after a failure.
        Restarting = "RESTARTING",
        /// Suspended (cluster lost leadership); not globally terminal.
        Suspended = "SUSPENDED",
        /// Reconciling after a JobManager failover.
        Reconciling = "RECONCILING",
    }
}

impl JobState {
    /// Globally terminal: the job will never run again (`FINISHED`, `CANCELED`, `FAILED`).
    pub fn is_globally_terminal(&self) -> bool {
        matches!(
            self,
            JobState::Finished | JobState::Canceled | JobState::Failed
        )
    }
}

open_enum! {
    /// The state of a task or vertex (Flink's `ExecutionState`).
    pub enum ExecutionState {
        /// Created.
        Created = "CREATED",
        /// Scheduled.
        Scheduled = "SCHEDULED",
        /// Being deployed.
        Deploying = "DEPLOYING",
        /// Running.
        Running = "RUNNING",
        /// Finished.
        Finished = "FINISHED",
        /// Being canceled.
        Canceling = "CANCELING",
        /// Canceled.
        Canceled = "CANCELED",
        /// Failed.
        Failed = "FAILED",
        /// Reconciling.
        Reconciling = "RECONCILING",
        /// Initializing (restoring state).
        Initializing = "INITIALIZING",
    }
}

open_enum! {
    /// The status of one checkpoint.
    pub enum CheckpointStatus {
        /// In progress.
        InProgress = "IN_PROGRESS",
        /// Completed.
        Completed = "COMPLETED",
        /// Failed.
        Failed = "FAILED",
    }
}

open_enum! {
    /// The queue status of an asynchronous operation (savepoint, stop-with-savepoint).
    pub enum OperationStatus {
        /// Still running.
        InProgress = "IN_PROGRESS",
        /// Done, successfully or not: see the operation's result.
        Completed = "COMPLETED",
    }
}

open_enum! {
    /// A savepoint's binary format.
    pub enum SavepointFormat {
        /// Portable across state backends.
        Canonical = "CANONICAL",
        /// The state backend's native format (faster; not portable).
        Native = "NATIVE",
    }
}

open_enum! {
    /// How a job restored from a savepoint treats its files (Flink's `RecoveryClaimMode`,
    /// called `RestoreMode` before 1.20).
    pub enum RecoveryClaimMode {
        /// Flink takes ownership of the snapshot and may delete it.
        Claim = "CLAIM",
        /// Flink never touches the snapshot; the first checkpoint is a full one.
        NoClaim = "NO_CLAIM",
        /// The legacy behaviour (deprecated; removed in Flink 2.0).
        Legacy = "LEGACY",
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn known_and_unknown_values_round_trip() {
        let s: JobState = serde_json::from_str("\"RUNNING\"").expect("decode");
        assert_eq!(s, JobState::Running);
        let u: JobState = serde_json::from_str("\"WARPING\"").expect("decode unknown");
        assert_eq!(u, JobState::Unknown("WARPING".into()));
        assert_eq!(serde_json::to_string(&u).expect("encode"), "\"WARPING\"");
        assert_eq!(
            serde_json::to_string(&RecoveryClaimMode::NoClaim).expect("encode"),
            "\"NO_CLAIM\""
        );
        assert_eq!(
            CheckpointStatus::from_flink("completed"),
            CheckpointStatus::Completed
        );
    }

    #[test]
    fn terminal_states() {
        assert!(JobState::Canceled.is_globally_terminal());
        assert!(!JobState::Suspended.is_globally_terminal());
        assert!(!JobState::Unknown("X".into()).is_globally_terminal());
    }
}
