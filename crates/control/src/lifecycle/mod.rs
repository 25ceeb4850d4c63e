//! The job lifecycle: a typed state machine, the pure planner and the pure upgrade resumer.
//!
//! Phases ([`Phase`]) are stored as a runtime enum; in code, a job in a phase is a
//! [`Job<S>`](Job) whose type parameter is one of the [`states`], and only the transitions
//! declared in the one table below compile (`impl TransitionTo<Running> for Deploying`,
//! Arroyo-style). The runtime check [`Phase::can_transition_to`] is generated from the same
//! table, so the stored and the typed machine cannot disagree.
//!
//! ```
//! use flinkops_control::lifecycle::{Job, states::*};
//! let job = Job::new("orders", Deploying).transition(Running).transition(Upgrading);
//! assert_eq!(job.phase().as_str(), "upgrading");
//! ```
//!
//! A suspended job cannot be upgraded in place; it must be deployed again first:
//!
//! ```compile_fail
//! use flinkops_control::lifecycle::{Job, states::*};
//! let job = Job::new("orders", Suspended).transition(Upgrading);
//! ```

pub mod plan;
pub mod upgrade;

pub use plan::{Action, Desired, Facts, JobStatus, LiveJob, Observed, PendingIntent, RestoreSource, RestoreKind, VersionRef, plan};
pub use upgrade::{UpgradeIntent, resume};

use crate::store::string_enum;

string_enum! {
    /// A managed job's lifecycle phase, as stored.
    Phase {
        /// Submitted, not yet running.
        Deploying = "deploying",
        Running = "running",
        /// A savepoint is being taken; the job keeps running.
        Savepointing = "savepointing",
        /// Stopped with a savepoint; the new version is starting from it.
        Upgrading = "upgrading",
        /// The new version failed its deadline; the previous version restarts from the same savepoint.
        RollingBack = "rolling_back",
        /// Restarting from the latest good checkpoint or savepoint after a failure.
        Recovering = "recovering",
        /// Stopped with a savepoint on purpose.
        Suspended = "suspended",
        /// Needs a person (the circuit breaker is open or nothing is restorable).
        Failed = "failed",
        /// A bounded job completed.
        Finished = "finished",
    }
}

/// Marker of the phase a typed [`Job`] is in.
pub trait State: Sized {
    const PHASE: Phase;
}

/// `S: TransitionTo<T>` means a job in phase `S` may move to phase `T`.
pub trait TransitionTo<T: State>: State {}

/// The typed phases.
pub mod states {
    macro_rules! states {
        ($($s:ident),+) => { $(
            #[doc = concat!("The `", stringify!($s), "` phase.")]
            #[derive(Debug, Clone, Copy, PartialEq, Eq)]
            pub struct $s;
            impl super::State for $s { const PHASE: super::Phase = super::Phase::$s; }
        )+ };
    }
    states!(Deploying, Running, Savepointing, Upgrading, RollingBack, Recovering, Suspended, Failed, Finished);
}

/// The one table of allowed transitions: typed impls and the runtime check come from it.
macro_rules! transitions {
    ($($from:ident => [$($to:ident),+]);+ $(;)?) => {
        $($(impl TransitionTo<states::$to> for states::$from {})+)+
        impl Phase {
            /// Whether a job in `self` may move to `to`.
            pub fn can_transition_to(self, to: Phase) -> bool {
                #[allow(clippy::match_like_matches_macro)]
                match (self, to) {
                    $($((Phase::$from, Phase::$to) => true,)+)+
                    _ => false,
                }
            }
        }
    };
}

transitions! {
    Deploying => [Running, Failed, Recovering];
    Running => [Savepointing, Upgrading, Recovering, Suspended, Failed, Finished];
    Savepointing => [Running, Recovering, Failed];
    Upgrading => [Running, RollingBack, Failed];
    RollingBack => [Running, Failed];
    Recovering => [Running, Failed];
    Suspended => [Deploying];
    Failed => [Recovering, Deploying, Suspended];
    Finished => [Deploying];
}

/// An illegal runtime transition (a stored phase and a requested one that the table forbids).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("a job cannot go from {from} to {to}")]
pub struct IllegalTransition {
    pub from: Phase,
    pub to: Phase,
}

impl Phase {
    /// The checked runtime transition, for phases read from the store.
    pub fn transition(self, to: Phase) -> Result<Phase, IllegalTransition> {
        if self.can_transition_to(to) { Ok(to) } else { Err(IllegalTransition { from: self, to }) }
    }
}

/// A managed job in phase `S`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Job<S: State> {
    pub name: String,
    state: S,
}

impl<S: State> Job<S> {
    pub fn new(name: impl Into<String>, state: S) -> Job<S> {
        Job { name: name.into(), state }
    }

    /// Moves to phase `T`; compiles only if the table allows `S → T`.
    pub fn transition<T: State>(self, to: T) -> Job<T>
    where
        S: TransitionTo<T>,
    {
        let _ = self.state;
        Job { name: self.name, state: to }
    }

    pub fn phase(&self) -> Phase {
        S::PHASE
    }
}

#[cfg(test)]
mod tests {
    use super::states::*;
    use super::*;

    #[test]
    fn typed_transitions_agree_with_the_runtime_table() {
        let j = Job::new("j", Deploying).transition(Running);
        assert!(Phase::Deploying.can_transition_to(j.phase()));
        let j = j.transition(Upgrading).transition(RollingBack).transition(Running).transition(Suspended).transition(Deploying);
        assert_eq!(j.phase(), Phase::Deploying);
        assert_eq!(Phase::Suspended.transition(Phase::Upgrading), Err(IllegalTransition { from: Phase::Suspended, to: Phase::Upgrading }));
        assert!(!Phase::RollingBack.can_transition_to(Phase::Upgrading), "no upgrade in the middle of a rollback");
        assert!(!Phase::Running.can_transition_to(Phase::Running), "no self loops");
    }

    #[test]
    fn every_phase_can_get_back_to_running() {
        for start in Phase::ALL {
            let mut seen = vec![*start];
            let mut frontier = vec![*start];
            while let Some(p) = frontier.pop() {
                for q in Phase::ALL {
                    if p.can_transition_to(*q) && !seen.contains(q) {
                        seen.push(*q);
                        frontier.push(*q);
                    }
                }
            }
            assert!(seen.contains(&Phase::Running), "{start} cannot reach running");
        }
    }
}
