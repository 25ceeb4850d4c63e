//! Upgrades as durable intent: [`UpgradeIntent`] is the payload of the upgrade's row in the
//! intent log, and [`resume`] is the pure step function that reads it together with what is on
//! the cluster and returns the next action. The planner calls it on every reconcile while the
//! upgrade is pending, so running on, and restarting after a crash, are the same code.
//!
//! The steps, and what the shell records before each (so the store always knows):
//! 1. intent written (pending) → stop the old job with a savepoint;
//! 2. savepoint recorded → `submit_attempts += 1` recorded → submit the new version from it;
//! 3. new job id and deadline recorded → wait until it runs and completes a checkpoint → done;
//! 4. otherwise (deadline passed, the new job died, it could not be submitted) `rolling_back`
//!    recorded → cancel the new job → `rollback_attempts += 1` → submit the previous version
//!    from the *same* savepoint → once it runs the intent ends as rolled back.
//!
//! The savepoint is never deleted while the intent is pending, and the last upgrade's savepoint
//! stays protected afterwards (see [`crate::retention::protected_paths`]).
//!
//! A rescale on a cluster without the adaptive scheduler is the same walk with the same version
//! on both sides and a [`ParallelismChange`]: stop with a savepoint, submit the version again
//! from it at the new parallelism, and roll back to the old parallelism from the same savepoint
//! if it does not become healthy. With one spec hash on both sides, the jobs are told apart by
//! their Flink job ids (the replaced one, the one the rescale started).

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use super::plan::{Action, JobStatus, Observed, VersionRef};
use crate::store::IntentState;

/// Submitting the new version is tried this often before the upgrade rolls back.
pub const MAX_SUBMIT_ATTEMPTS: u32 = 2;
/// Submitting the previous version during a rollback is tried this often before a person is needed.
pub const MAX_ROLLBACK_ATTEMPTS: u32 = 3;

/// An upgrade's progress, stored as the intent's payload.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct UpgradeIntent {
    pub from: VersionRef,
    pub to: VersionRef,
    /// The Flink job being replaced.
    pub old_flink_job: String,
    /// The savepoint the old job stopped with (recorded before anything is submitted from it).
    pub savepoint: Option<String>,
    #[serde(default)]
    pub submit_attempts: u32,
    pub new_flink_job: Option<String>,
    /// When the new version must have run and completed a checkpoint.
    pub deadline_ms: Option<i64>,
    pub health_timeout_ms: i64,
    #[serde(default)]
    pub rolling_back: bool,
    pub rollback_reason: Option<String>,
    #[serde(default)]
    pub rollback_attempts: u32,
    /// A rescale by savepoint: the parallelism before and after (the version stays the same).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub parallelism: Option<ParallelismChange>,
}

/// Parallelism per job vertex: by vertex id (`pipeline.jobvertex-parallelism-overrides`) and by
/// the vertex's stable name (SQL jobs: the SQL runner applies it by name).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct VertexParallelism {
    pub by_id: BTreeMap<String, u32>,
    pub by_name: BTreeMap<String, u32>,
}

/// What a rescale by savepoint changes.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct ParallelismChange {
    pub before: VertexParallelism,
    pub after: VertexParallelism,
}

impl UpgradeIntent {
    pub fn new(from: VersionRef, to: VersionRef, old_flink_job: String, health_timeout_ms: i64) -> UpgradeIntent {
        UpgradeIntent {
            from,
            to,
            old_flink_job,
            savepoint: None,
            submit_attempts: 0,
            new_flink_job: None,
            deadline_ms: None,
            health_timeout_ms,
            rolling_back: false,
            rollback_reason: None,
            rollback_attempts: 0,
            parallelism: None,
        }
    }

    /// The same version on both sides: a rescale (jobs are told apart by id, not by spec hash).
    pub fn is_rescale(&self) -> bool {
        self.from.spec_hash == self.to.spec_hash
    }

    /// The payload as stored.
    pub fn to_json(&self) -> serde_json::Value {
        serde_json::to_value(self).unwrap_or(serde_json::Value::Null)
    }

    /// Reads a stored payload.
    pub fn from_json(v: &serde_json::Value) -> Result<UpgradeIntent, crate::Error> {
        serde_json::from_value(v.clone()).map_err(|e| crate::Error::Corrupt { what: "upgrade intent".into(), detail: e.to_string() })
    }
}

fn wait(why: &str) -> Action {
    Action::Wait { why: why.into(), until_ms: None }
}

/// The next step of the pending upgrade `id`.
pub fn resume(id: i64, u: &UpgradeIntent, observed: &Observed, now_ms: i64) -> Action {
    if !observed.cluster_reachable {
        return wait("the cluster's REST API does not answer");
    }
    // The job this upgrade started: never the one it replaces; during a rescale's rollback only
    // the one recorded (the rolled-back job has the same spec hash).
    let new_job = observed.jobs.iter().find(|j| {
        j.status.is_active()
            && j.flink_job_id != u.old_flink_job
            && super::plan::same_spec(j.spec_hash.as_deref(), &u.to.spec_hash)
            && !(u.is_rescale() && u.rolling_back && u.new_flink_job.as_deref() != Some(j.flink_job_id.as_str()))
    });
    if u.rolling_back {
        let Some(sp) = &u.savepoint else {
            return Action::FinishIntent { id, state: IntentState::Failed, reason: "rollback without a savepoint; recovery takes over".into() };
        };
        if let Some(j) = new_job {
            return Action::Cancel { flink_job_id: j.flink_job_id.clone() };
        }
        let previous = observed.jobs.iter().find(|j| {
            j.status.is_active() && super::plan::same_spec(j.spec_hash.as_deref(), &u.from.spec_hash) && u.new_flink_job.as_deref() != Some(j.flink_job_id.as_str())
        });
        return match previous {
            Some(j) if j.status == JobStatus::Running => Action::FinishIntent {
                id,
                state: IntentState::RolledBack,
                reason: u.rollback_reason.clone().unwrap_or_else(|| "rolled back".into()),
            },
            Some(_) => wait("the previous version is starting"),
            None if u.rollback_attempts >= MAX_ROLLBACK_ATTEMPTS => Action::FinishIntent {
                id,
                state: IntentState::Failed,
                reason: format!("the previous version did not start from {sp} after {} attempts; the savepoint is kept", u.rollback_attempts),
            },
            None => Action::Submit { version: u.from.clone(), from_savepoint: sp.clone(), rollback: true },
        };
    }
    let Some(sp) = &u.savepoint else {
        return match observed.job(&u.old_flink_job) {
            Some(j) if j.status.is_active() => Action::StopWithSavepoint { flink_job_id: j.flink_job_id.clone() },
            Some(j) if j.status == JobStatus::Stopping => wait("the old job is stopping"),
            // Stopped with a savepoint that the crash kept us from recording: go on from it.
            Some(j) if matches!(j.status, JobStatus::Stopped | JobStatus::Finished) && j.savepoint.is_some() => {
                Action::Submit { version: u.to.clone(), from_savepoint: j.savepoint.clone().unwrap_or_default(), rollback: false }
            }
            Some(_) => Action::FinishIntent { id, state: IntentState::Failed, reason: "the old job ended without a savepoint; nothing was changed, recovery takes over".into() },
            None => Action::FinishIntent { id, state: IntentState::Failed, reason: "the old job is gone and no savepoint was recorded; recovery takes over".into() },
        };
    };
    if let Some(j) = new_job {
        let deadline = u.deadline_ms.unwrap_or(now_ms + u.health_timeout_ms);
        if j.status == JobStatus::Running && j.completed_checkpoints >= 1 {
            return Action::FinishIntent { id, state: IntentState::Done, reason: format!("version {} runs and checkpoints", u.to.version) };
        }
        if now_ms > deadline {
            return Action::StartRollback { reason: format!("version {} did not run and complete a checkpoint before its deadline", u.to.version) };
        }
        return Action::AwaitHealthy { flink_job_id: j.flink_job_id.clone(), deadline_ms: deadline };
    }
    if u.new_flink_job.is_some() {
        return Action::StartRollback { reason: format!("version {} stopped before it was healthy", u.to.version) };
    }
    if u.submit_attempts >= MAX_SUBMIT_ATTEMPTS {
        return Action::StartRollback { reason: format!("version {} could not be submitted ({} attempts)", u.to.version, u.submit_attempts) };
    }
    Action::Submit { version: u.to.clone(), from_savepoint: sp.clone(), rollback: false }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::lifecycle::plan::LiveJob;

    const SP: &str = "file:///sp/savepoint-aa-1";
    const NOW: i64 = 10_000_000;

    fn v(n: i64) -> VersionRef {
        VersionRef { version: n, spec_hash: format!("hash{n}") }
    }

    fn live(id: &str, version: i64, status: JobStatus, checkpoints: u64, savepoint: Option<&str>) -> LiveJob {
        LiveJob {
            flink_job_id: id.into(),
            spec_hash: Some(format!("hash{version}")),
            status,
            completed_checkpoints: checkpoints,
            last_checkpoint_age_ms: None,
            savepoint: savepoint.map(str::to_string),
        }
    }

    fn base() -> UpgradeIntent {
        UpgradeIntent::new(v(1), v(2), "old".into(), 60_000)
    }

    /// Each row: a crash right after `step`, the intent as the store had it, what the cluster
    /// shows on restart, and the only acceptable next action.
    #[test]
    fn a_crash_at_every_step_of_an_upgrade_resumes_or_rolls_back() {
        let with_sp = UpgradeIntent { savepoint: Some(SP.into()), ..base() };
        let submitted = UpgradeIntent { submit_attempts: 1, ..with_sp.clone() };
        let recorded = UpgradeIntent { new_flink_job: Some("new".into()), deadline_ms: Some(NOW + 30_000), ..submitted.clone() };
        let expired = UpgradeIntent { deadline_ms: Some(NOW - 1), ..recorded.clone() };
        let rolling = UpgradeIntent { rolling_back: true, rollback_reason: Some("deadline".into()), ..expired.clone() };
        let rolling_submitted = UpgradeIntent { rollback_attempts: 1, ..rolling.clone() };
        let submit_new = Action::Submit { version: v(2), from_savepoint: SP.into(), rollback: false };
        let submit_old = Action::Submit { version: v(1), from_savepoint: SP.into(), rollback: true };
        let rows: Vec<(&str, UpgradeIntent, Vec<LiveJob>, Action)> = vec![
            ("intent written, nothing done", base(), vec![live("old", 1, JobStatus::Running, 5, None)], Action::StopWithSavepoint { flink_job_id: "old".into() }),
            ("stop requested, old job still draining", base(), vec![live("old", 1, JobStatus::Stopping, 5, None)], wait("the old job is stopping")),
            ("stopped, savepoint not recorded", base(), vec![live("old", 1, JobStatus::Finished, 5, Some(SP))], submit_new.clone()),
            ("savepoint recorded", with_sp.clone(), vec![live("old", 1, JobStatus::Stopped, 5, Some(SP))], submit_new.clone()),
            ("attempt recorded, submit not sent", submitted.clone(), vec![live("old", 1, JobStatus::Stopped, 5, Some(SP))], submit_new.clone()),
            (
                "submitted, job id not recorded",
                submitted.clone(),
                vec![live("new", 2, JobStatus::Starting, 0, None), live("old", 1, JobStatus::Stopped, 5, Some(SP))],
                Action::AwaitHealthy { flink_job_id: "new".into(), deadline_ms: NOW + 60_000 },
            ),
            ("job id recorded, not yet checkpointed", recorded.clone(), vec![live("new", 2, JobStatus::Running, 0, None)], Action::AwaitHealthy { flink_job_id: "new".into(), deadline_ms: NOW + 30_000 }),
            ("new version healthy", recorded.clone(), vec![live("new", 2, JobStatus::Running, 1, None)], Action::FinishIntent { id: 7, state: IntentState::Done, reason: "version 2 runs and checkpoints".into() }),
            ("deadline passed", expired.clone(), vec![live("new", 2, JobStatus::Running, 0, None)], Action::StartRollback { reason: "version 2 did not run and complete a checkpoint before its deadline".into() }),
            ("new job failed", recorded.clone(), vec![live("new", 2, JobStatus::Failed, 0, None)], Action::StartRollback { reason: "version 2 stopped before it was healthy".into() }),
            ("rollback recorded, new job still up", rolling.clone(), vec![live("new", 2, JobStatus::Running, 0, None)], Action::Cancel { flink_job_id: "new".into() }),
            ("new job cancelled", rolling.clone(), vec![live("new", 2, JobStatus::Stopped, 0, None)], submit_old.clone()),
            ("rollback attempt recorded, not sent", rolling_submitted.clone(), vec![live("new", 2, JobStatus::Stopped, 0, None)], submit_old.clone()),
            ("previous version starting", rolling_submitted.clone(), vec![live("back", 1, JobStatus::Starting, 0, None)], wait("the previous version is starting")),
            ("previous version running", rolling_submitted.clone(), vec![live("back", 1, JobStatus::Running, 0, None)], Action::FinishIntent { id: 7, state: IntentState::RolledBack, reason: "deadline".into() }),
        ];
        for (step, intent, jobs, want) in rows {
            // The payload goes through the store as JSON: resume from what was stored.
            let stored = UpgradeIntent::from_json(&intent.to_json()).expect("payload round trip");
            let got = resume(7, &stored, &Observed { cluster_reachable: true, jobs }, NOW);
            assert_eq!(got, want, "crash after: {step}");
        }
    }

    /// A rescale by savepoint (version 1 on both sides): every job has the same spec hash, so the
    /// walk tells the replaced job, the rescaled one and the rolled-back one apart by id.
    #[test]
    fn a_crash_at_every_step_of_a_rescale_by_savepoint_resumes_or_rolls_back() {
        let change = ParallelismChange {
            before: VertexParallelism { by_id: BTreeMap::new(), by_name: BTreeMap::from([("agg".to_string(), 1)]) },
            after: VertexParallelism { by_id: BTreeMap::new(), by_name: BTreeMap::from([("agg".to_string(), 4)]) },
        };
        let base = UpgradeIntent { parallelism: Some(change), ..UpgradeIntent::new(v(1), v(1), "old".into(), 60_000) };
        assert!(base.is_rescale() && !self::base().is_rescale());
        let with_sp = UpgradeIntent { savepoint: Some(SP.into()), ..base.clone() };
        let submitted = UpgradeIntent { submit_attempts: 1, ..with_sp.clone() };
        let recorded = UpgradeIntent { new_flink_job: Some("new".into()), deadline_ms: Some(NOW + 30_000), ..submitted.clone() };
        let expired = UpgradeIntent { deadline_ms: Some(NOW - 1), ..recorded.clone() };
        let rolling = UpgradeIntent { rolling_back: true, rollback_reason: Some("deadline".into()), ..expired.clone() };
        let rolling_submitted = UpgradeIntent { rollback_attempts: 1, ..rolling.clone() };
        let submit_new = Action::Submit { version: v(1), from_savepoint: SP.into(), rollback: false };
        let submit_old = Action::Submit { version: v(1), from_savepoint: SP.into(), rollback: true };
        let rows: Vec<(&str, UpgradeIntent, Vec<LiveJob>, Action)> = vec![
            ("intent written, nothing done", base.clone(), vec![live("old", 1, JobStatus::Running, 5, None)], Action::StopWithSavepoint { flink_job_id: "old".into() }),
            ("stopped, savepoint not recorded", base.clone(), vec![live("old", 1, JobStatus::Finished, 5, Some(SP))], submit_new.clone()),
            // The old job (same hash), still shown running, is not mistaken for the rescaled one.
            ("savepoint recorded, old job still shown running", with_sp.clone(), vec![live("old", 1, JobStatus::Running, 5, None)], submit_new.clone()),
            (
                "submitted, job id not recorded",
                submitted.clone(),
                vec![live("new", 1, JobStatus::Starting, 0, None), live("old", 1, JobStatus::Finished, 5, Some(SP))],
                Action::AwaitHealthy { flink_job_id: "new".into(), deadline_ms: NOW + 60_000 },
            ),
            ("rescaled job healthy", recorded.clone(), vec![live("new", 1, JobStatus::Running, 1, None)], Action::FinishIntent { id: 7, state: IntentState::Done, reason: "version 1 runs and checkpoints".into() }),
            ("deadline passed", expired.clone(), vec![live("new", 1, JobStatus::Running, 0, None)], Action::StartRollback { reason: "version 1 did not run and complete a checkpoint before its deadline".into() }),
            ("rollback recorded, rescaled job still up", rolling.clone(), vec![live("new", 1, JobStatus::Running, 0, None)], Action::Cancel { flink_job_id: "new".into() }),
            ("rescaled job cancelled", rolling.clone(), vec![live("new", 1, JobStatus::Stopped, 0, None)], submit_old.clone()),
            // The rolled-back job has the rescaled job's spec hash: it is not cancelled in turn.
            ("rolled-back job starting", rolling_submitted.clone(), vec![live("back", 1, JobStatus::Starting, 0, None), live("new", 1, JobStatus::Stopped, 0, None)], wait("the previous version is starting")),
            ("rolled-back job running", rolling_submitted.clone(), vec![live("back", 1, JobStatus::Running, 0, None)], Action::FinishIntent { id: 7, state: IntentState::RolledBack, reason: "deadline".into() }),
        ];
        for (step, intent, jobs, want) in rows {
            let stored = UpgradeIntent::from_json(&intent.to_json()).expect("payload round trip");
            assert_eq!(stored.parallelism, intent.parallelism);
            let got = resume(7, &stored, &Observed { cluster_reachable: true, jobs }, NOW);
            assert_eq!(got, want, "crash after: {step}");
        }
    }

    #[test]
    fn nothing_is_lost_when_the_old_job_dies_before_its_savepoint() {
        let gone = resume(3, &base(), &Observed { cluster_reachable: true, jobs: vec![] }, NOW);
        assert!(matches!(gone, Action::FinishIntent { state: IntentState::Failed, .. }), "{gone:?}");
        let failed = resume(3, &base(), &Observed { cluster_reachable: true, jobs: vec![live("old", 1, JobStatus::Failed, 5, None)] }, NOW);
        assert!(matches!(failed, Action::FinishIntent { state: IntentState::Failed, .. }), "{failed:?}");
        let away = resume(3, &base(), &Observed { cluster_reachable: false, jobs: vec![] }, NOW);
        assert!(matches!(away, Action::Wait { .. }), "{away:?}");
    }

    #[test]
    fn attempts_are_bounded() {
        let stuck = UpgradeIntent { savepoint: Some(SP.into()), submit_attempts: MAX_SUBMIT_ATTEMPTS, ..base() };
        assert!(matches!(resume(1, &stuck, &Observed { cluster_reachable: true, jobs: vec![] }, NOW), Action::StartRollback { .. }));
        let hopeless = UpgradeIntent { savepoint: Some(SP.into()), rolling_back: true, rollback_attempts: MAX_ROLLBACK_ATTEMPTS, ..base() };
        match resume(1, &hopeless, &Observed { cluster_reachable: true, jobs: vec![] }, NOW) {
            Action::FinishIntent { state: IntentState::Failed, reason, .. } => assert!(reason.contains(SP), "the savepoint is named: {reason}"),
            other => panic!("{other:?}"),
        }
    }

    /// Whatever the intent and the cluster, resume submits only from the upgrade's savepoint
    /// (recorded, or the old job's own when the crash kept it from being recorded), the right
    /// version for the direction, and cancels only a job of the new version during a rollback.
    #[test]
    fn submits_only_from_the_upgrade_savepoint() {
        use proptest::prelude::*;
        let status = prop_oneof![Just(JobStatus::Starting), Just(JobStatus::Running), Just(JobStatus::Stopping), Just(JobStatus::Failed), Just(JobStatus::Stopped), Just(JobStatus::Finished)];
        let job = (1i64..=2, status, 0u64..3, any::<bool>()).prop_map(|(ver, st, cp, sp)| live("", ver, st, cp, sp.then_some(SP)));
        let intent = (any::<bool>(), 0u32..4, any::<bool>(), any::<bool>(), 0u32..4, any::<bool>()).prop_map(|(has_sp, att, rec, rb, rba, expired)| UpgradeIntent {
            savepoint: has_sp.then(|| SP.into()),
            submit_attempts: att,
            new_flink_job: rec.then(|| "new".into()),
            deadline_ms: rec.then_some(if expired { NOW - 1 } else { NOW + 1 }),
            rolling_back: rb,
            rollback_attempts: rba,
            ..base()
        });
        proptest!(|(u in intent, jobs in proptest::collection::vec(job, 0..4))| {
            // Unique ids; the first job is the upgrade's old one.
            let jobs = jobs.into_iter().enumerate().map(|(i, j)| LiveJob { flink_job_id: if i == 0 { "old".into() } else { format!("j{i}") }, ..j }).collect();
            let observed = Observed { cluster_reachable: true, jobs };
            let a = resume(1, &u, &observed, NOW);
            if let Action::Submit { from_savepoint, version, rollback } = &a {
                prop_assert_eq!(from_savepoint.as_str(), SP);
                prop_assert_eq!(version, if *rollback { &u.from } else { &u.to });
                prop_assert_eq!(*rollback, u.rolling_back);
            }
            if let Action::Cancel { flink_job_id } = &a {
                let cancelled = observed.job(flink_job_id).and_then(|j| j.spec_hash.clone());
                prop_assert!(u.rolling_back && cancelled.as_deref() == Some("hash2"), "only the new version is cancelled, in a rollback: {:?}", a);
            }
        });
    }
}
