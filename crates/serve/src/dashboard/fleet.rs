//! The fleet view: every environment and job with state, health, uptime, parallelism,
//! throughput, last checkpoint age, last savepoint and open alerts.
//!
//! Built from three store queries whatever the fleet size (every observed job, the pending
//! intents, every alert) and the sampler's in-memory newest samples; no Flink request is made
//! while answering, so the page stays fast at 1,000 jobs and when a Flink stops answering.

use std::collections::BTreeMap;

use flinkops_control::store::Store;
use serde::{Deserialize, Serialize};

use super::sampler::Samples;
use crate::model::Platform;

/// A job the fleet lists (from the spec).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct JobRef {
    pub key: String,
    pub env: String,
    pub job: String,
    /// The parallelism the spec asks for (0: unknown, e.g. a Kubernetes job).
    pub parallelism: u32,
}

/// The jobs of a platform, in spec order (Kubernetes environments' jobs last).
pub fn job_refs(p: &Platform) -> Vec<JobRef> {
    let mut out: Vec<JobRef> = p
        .jobs
        .iter()
        .map(|j| JobRef {
            key: j.key.clone(),
            env: j.env.clone(),
            job: j.job.clone(),
            parallelism: j.runtime.parallelism,
        })
        .collect();
    for ke in &p.kube_envs {
        for (key, (_, _, name)) in &ke.jobs {
            out.push(JobRef {
                key: key.clone(),
                env: ke.name.clone(),
                job: name.clone(),
                parallelism: 0,
            });
        }
    }
    out
}

/// One environment of the fleet.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct FleetEnv {
    pub name: String,
    pub target: String,
    pub flink_version: String,
    pub rest_url: Option<String>,
    /// Whether Flink answered the sampler's last request (None: not sampled yet).
    pub reachable: Option<bool>,
    /// Why it did not.
    pub error: Option<String>,
    /// When it was last sampled (epoch ms).
    pub sampled_at: Option<i64>,
    pub jobs: usize,
}

/// One job of the fleet.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct FleetJob {
    pub key: String,
    pub env: String,
    pub job: String,
    pub phase: String,
    pub state: String,
    pub health: String,
    pub flink_job_id: Option<String>,
    pub parallelism: u32,
    /// Since when the Flink job runs (epoch ms, sampled).
    pub started_at: Option<i64>,
    pub uptime_ms: Option<i64>,
    /// Records per second entering the job (its sources' output), sampled.
    pub records_in_per_s: Option<f64>,
    /// Records per second reaching its sinks, sampled.
    pub records_out_per_s: Option<f64>,
    /// The highest busy time (ms/s) of any vertex, sampled.
    pub busy_max: Option<f64>,
    pub restarts: Option<f64>,
    pub last_checkpoint: Option<String>,
    pub last_checkpoint_at: Option<i64>,
    pub last_checkpoint_age_ms: Option<i64>,
    pub last_savepoint: Option<String>,
    pub alerts_firing: Vec<String>,
    pub pending: Option<String>,
    pub updated_at: Option<i64>,
}

/// The fleet page's data.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Fleet {
    pub platform: String,
    pub generated_at: i64,
    pub environments: Vec<FleetEnv>,
    pub jobs: Vec<FleetJob>,
}

/// Builds the fleet from the store (three queries) and the newest samples.
/// `envs`: (name, target, Flink version, REST URL).
pub async fn fleet_from_store<S: Store>(
    store: &S,
    platform: &str,
    envs: &[(String, String, String, Option<String>)],
    jobs: &[JobRef],
    samples: &Samples,
    now: i64,
) -> flinkops_control::Result<Fleet> {
    let crate::api::JobFacts {
        mut observed,
        mut pending,
        mut firing,
    } = crate::api::JobFacts::load(store).await?;
    let mut per_env: BTreeMap<&str, usize> = BTreeMap::new();
    let mut out = Vec::with_capacity(jobs.len());
    for j in jobs {
        *per_env.entry(j.env.as_str()).or_default() += 1;
        let o = observed.remove(&j.key);
        let s = samples.jobs.get(&j.key);
        // A sample of an earlier Flink job (before an upgrade or recovery) does not count.
        let s = s.filter(|s| {
            o.as_ref()
                .is_some_and(|o| o.flink_job_id.as_deref() == Some(s.flink_job_id.as_str()))
        });
        let running = o.as_ref().is_some_and(|o| o.state == "RUNNING");
        let started_at = s.and_then(|s| s.started_at);
        let last_checkpoint_at = s.and_then(|s| s.last_checkpoint_at);
        out.push(FleetJob {
            key: j.key.clone(),
            env: j.env.clone(),
            job: j.job.clone(),
            phase: o
                .as_ref()
                .map(|o| o.phase.clone())
                .unwrap_or_else(|| "deploying".into()),
            state: o
                .as_ref()
                .map(|o| o.state.clone())
                .unwrap_or_else(|| "UNKNOWN".into()),
            health: o
                .as_ref()
                .map(|o| o.health.clone())
                .unwrap_or_else(|| "unknown".into()),
            flink_job_id: o.as_ref().and_then(|o| o.flink_job_id.clone()),
            parallelism: s
                .map(|s| s.parallelism)
                .filter(|p| *p > 0)
                .unwrap_or(j.parallelism),
            started_at,
            uptime_ms: started_at.filter(|_| running).map(|t| (now - t).max(0)),
            records_in_per_s: s.and_then(|s| s.records_in_per_s).filter(|_| running),
            records_out_per_s: s.and_then(|s| s.records_out_per_s).filter(|_| running),
            busy_max: s.and_then(|s| s.busy_max).filter(|_| running),
            restarts: s.and_then(|s| s.restarts),
            last_checkpoint: o.as_ref().and_then(|o| o.last_checkpoint.clone()),
            last_checkpoint_at,
            last_checkpoint_age_ms: last_checkpoint_at.map(|t| (now - t).max(0)),
            last_savepoint: o.as_ref().and_then(|o| o.last_savepoint.clone()),
            alerts_firing: firing.remove(&j.key).unwrap_or_default(),
            pending: pending.remove(&j.key),
            updated_at: o.as_ref().map(|o| o.updated_at),
        });
    }
    let environments = envs
        .iter()
        .map(|(name, target, version, rest_url)| {
            let s = samples.envs.get(name);
            FleetEnv {
                name: name.clone(),
                target: target.clone(),
                flink_version: version.clone(),
                rest_url: rest_url.clone(),
                reachable: s.map(|s| s.reachable),
                error: s.and_then(|s| s.error.clone()),
                sampled_at: s.map(|s| s.at),
                jobs: per_env.get(name.as_str()).copied().unwrap_or(0),
            }
        })
        .collect();
    Ok(Fleet {
        platform: platform.to_string(),
        generated_at: now,
        environments,
        jobs: out,
    })
}

#[cfg(test)]
mod tests {
    use flinkops_control::store::{AlertState, AlertStatus, IntentKind, NewIntent, ObservedJob, SqlStore};

    use super::*;
    use crate::dashboard::sampler::JobSample;

    fn observed(job: &str, id: &str, state: &str) -> ObservedJob {
        ObservedJob {
            job: job.into(),
            flink_job_id: Some(id.into()),
            state: state.into(),
            phase: "running".into(),
            spec_version: Some(1),
            last_checkpoint: None,
            last_savepoint: Some(format!("file:///sp/{job}")),
            restored_from: None,
            health: "healthy".into(),
            updated_at: 5,
        }
    }

    fn sample(id: &str) -> JobSample {
        JobSample {
            at: 900,
            flink_job_id: id.into(),
            flink_state: "RUNNING".into(),
            started_at: Some(400),
            parallelism: 3,
            records_in_per_s: Some(12.5),
            records_out_per_s: Some(10.0),
            last_checkpoint_at: Some(700),
            ..JobSample::default()
        }
    }

    #[tokio::test]
    async fn fleet_joins_store_and_samples() {
        let dir = tempfile::tempdir().expect("tmp");
        let store = SqlStore::open(&dir.path().display().to_string())
            .await
            .expect("store");
        store
            .put_observed(&observed("dev/a", "aaaa", "RUNNING"))
            .await
            .expect("a");
        store
            .put_observed(&observed("dev/b", "bbbb", "RUNNING"))
            .await
            .expect("b");
        store
            .put_observed(&observed("dev/c", "cccc", "FAILED"))
            .await
            .expect("c");
        store
            .put_alert(&AlertState {
                job: "dev/c".into(),
                rule: "FlinkJobNotRunning".into(),
                status: AlertStatus::Firing,
                severity: "critical".into(),
                since: 1,
                last_notified_at: None,
                summary: "s".into(),
                updated_at: 1,
            })
            .await
            .expect("alert");
        store
            .put_alert(&AlertState {
                job: "dev/a".into(),
                rule: "Old".into(),
                status: AlertStatus::Resolved,
                severity: "warning".into(),
                since: 1,
                last_notified_at: None,
                summary: "s".into(),
                updated_at: 1,
            })
            .await
            .expect("alert");
        store
            .begin_intent(&NewIntent {
                job: "dev/b".into(),
                kind: IntentKind::Upgrade,
                reason: "t".into(),
                payload: serde_json::json!({}),
                created_at: 1,
            })
            .await
            .expect("intent");
        let mut samples = Samples::default();
        samples.jobs.insert("dev/a".into(), sample("aaaa"));
        // A sample of b's earlier Flink job (before an upgrade) must not be shown.
        samples.jobs.insert("dev/b".into(), sample("old-b"));
        samples.jobs.insert("dev/c".into(), sample("cccc"));
        let jobs: Vec<JobRef> = ["a", "b", "c", "d"]
            .iter()
            .map(|j| JobRef {
                key: format!("dev/{j}"),
                env: "dev".into(),
                job: j.to_string(),
                parallelism: 2,
            })
            .collect();
        let envs = vec![(
            "dev".to_string(),
            "local".to_string(),
            "2.3".to_string(),
            Some("http://127.0.0.1:1".to_string()),
        )];
        let f = fleet_from_store(&store, "p", &envs, &jobs, &samples, 1_000)
            .await
            .expect("fleet");
        let by: BTreeMap<&str, &FleetJob> = f.jobs.iter().map(|j| (j.job.as_str(), j)).collect();
        let a = by["a"];
        assert_eq!(
            (
                a.uptime_ms,
                a.records_in_per_s,
                a.last_checkpoint_age_ms,
                a.parallelism
            ),
            (Some(600), Some(12.5), Some(300), 3)
        );
        assert!(a.alerts_firing.is_empty(), "a resolved alert is not open");
        let b = by["b"];
        assert_eq!(
            (
                b.uptime_ms,
                b.records_in_per_s,
                b.parallelism,
                b.pending.as_deref()
            ),
            (None, None, 2, Some("upgrade"))
        );
        let c = by["c"];
        assert_eq!(
            (c.uptime_ms, c.records_in_per_s),
            (None, None),
            "no uptime or throughput for a job that does not run"
        );
        assert_eq!(c.alerts_firing, vec!["FlinkJobNotRunning".to_string()]);
        let d = by["d"];
        assert_eq!(
            (d.state.as_str(), d.phase.as_str(), d.health.as_str()),
            ("UNKNOWN", "deploying", "unknown")
        );
        assert_eq!(f.environments[0].jobs, 4);
        assert_eq!(f.environments[0].reachable, None, "not sampled yet");
    }
}
