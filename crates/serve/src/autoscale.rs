//! The autoscaler inside serve's reconcile loop (local and standalone targets; on Kubernetes the
//! operator's own autoscaler runs, configured from the same spec section).
//!
//! Each step of a running job with `autoscaler` in its spec: read the job graph at its current
//! parallelism, take one [`MetricSample`] of every vertex through the REST API (the rate a
//! `datagen` source is configured for filled in from the deployed SQL), keep the window
//! ([`flinkops_autoscale::retain_history`]), and ask the pure DS2 core
//! ([`flinkops_autoscale::decide`]). A rescale is recorded as intent, applied in place through
//! the adaptive scheduler (`PUT /jobs/:id/resource-requirements`, which local clusters flinkops
//! starts enable) and stored with every number behind it (`Store::record_scaling`, served by
//! the API and `flinkops autoscaler explain --env`). The core's [`State`] (stabilization,
//! pending scale-downs, the last scale-ups) is stored per job and survives a restart of serve;
//! the samples live in memory (a restart collects a new window).
//!
//! Slots are respected: a vertex never asks for more parallelism than the slots the job holds
//! plus the cluster's free ones (one slot runs a subtask of every vertex under slot sharing).

use std::collections::BTreeMap;
use std::time::Duration;

use flinkops_autoscale::model::{Edge, JobGraph, MetricSample, Settings, Vertex, VertexSample};
use flinkops_autoscale::{Decision, State, Status};
use flinkops_control::store::{IntentKind, IntentState, NewIntent, ScalingRecord, SpecVersion, Store, now_ms};
use flinkops_rest::{Aggregation, ExecutionState, FlinkClient, JobDetails, JobId, JobState, VertexId, VertexResourceRequirements};
use serde::{Deserialize, Serialize};
use serde_json::json;

use crate::env::EnvRuntime;
use crate::model::{ManagedJob, Program, RuntimeSpec};
use crate::reconcile::Meta;
use crate::state::Shared;
use crate::{Error, Result};

/// The job's durable autoscaler memory (`job_meta`).
pub const META_STATE: &str = "autoscaler";
/// The parallelism per vertex id the autoscaler last set (`job_meta`): later submissions of the
/// job (upgrades, recoveries) start with it through `pipeline.jobvertex-parallelism-overrides`
/// instead of falling back to the spec's parallelism, as the Kubernetes operator does with its
/// autoscaler's overrides. Vertex ids stay the same while the job's topology does; ids a new
/// version does not have are ignored by Flink.
pub const META_OVERRIDES: &str = "parallelism_overrides";
/// How long after a rescale the restart it causes is not counted by the health rules.
pub const RESCALE_QUIET_MS: i64 = 90_000;
/// Decisions kept per job in the store.
const DECISIONS_KEPT: i64 = 200;

/// What the loop keeps in memory per job between steps.
#[derive(Debug, Default)]
pub struct Memory {
    /// The Flink job the samples belong to.
    flink_job: String,
    samples: Vec<MetricSample>,
    /// When the autoscaler last rescaled the job (the restart it causes is not an incident:
    /// health ignores restarts for [`RESCALE_QUIET_MS`] after it).
    pub rescaled_at_ms: Option<i64>,
    /// Status and parallelism of the last recorded decision (a decision is stored when it
    /// rescales or when its status changes, not every step).
    last_recorded: Option<(Status, BTreeMap<String, u32>)>,
}

/// The stored memory of the core, with the Flink job it belongs to.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Stored {
    pub flink_job: String,
    pub state: State,
    /// The parallelism of earlier Flink jobs of this job was carried into this one.
    #[serde(default)]
    pub carried: bool,
}

/// The parallelism the autoscaler last set, by vertex id (for `pipeline.jobvertex-parallelism-
/// overrides` at submission: jar jobs) and by vertex name without the planner's `[n]` node
/// numbers (SQL jobs: the SQL runner sets it on the operators of the named vertex — the
/// planner renumbers its nodes on every submission, and the override by id, passed with a SQL
/// job's configuration, left a resubmitted job at its old parallelism in our runs).
pub use flinkops_control::lifecycle::upgrade::VertexParallelism as Overrides;

/// A vertex name without the SQL planner's node numbers (`GroupAggregate[8] -> Calc[9]` →
/// `GroupAggregate -> Calc`).
pub fn stable_name(name: &str) -> String {
    let mut out = String::with_capacity(name.len());
    let mut rest = name;
    while let Some(i) = rest.find('[') {
        match rest[i + 1..].find(']') {
            Some(j) if j > 0 && rest[i + 1..i + 1 + j].bytes().all(|b| b.is_ascii_digit()) => {
                out.push_str(&rest[..i]);
                rest = &rest[i + j + 2..];
            }
            _ => {
                out.push_str(&rest[..=i]);
                rest = &rest[i + 1..];
            }
        }
    }
    out.push_str(rest);
    out
}

/// The job graph the core sees: vertices with parallelism and max parallelism; edges from the
/// plan, `HASH` edges keyed.
pub fn job_graph(job: &JobDetails) -> JobGraph {
    let default_max = job.max_parallelism.filter(|&m| m > 0).unwrap_or(128);
    let vertices = job
        .vertices
        .iter()
        .map(|v| Vertex {
            id: v.id.to_string(),
            name: v.name.clone(),
            parallelism: v.parallelism.max(1),
            max_parallelism: u32::try_from(v.max_parallelism.filter(|&m| m > 0).unwrap_or(default_max)).unwrap_or(u32::MAX).max(1),
        })
        .collect();
    let edges = job
        .plan
        .iter()
        .flat_map(|p| p.nodes.iter())
        .flat_map(|n| {
            n.inputs.iter().map(move |i| Edge { from: i.id.to_string(), to: n.id.to_string(), keyed: i.ship_strategy.as_deref().is_some_and(|s| s.eq_ignore_ascii_case("HASH")) })
        })
        .collect();
    JobGraph { vertices, edges }
}

const METRICS: [&str; 4] = ["busyTimeMsPerSecond", "backPressuredTimeMsPerSecond", "numRecordsInPerSecond", "numRecordsOutPerSecond"];

/// One sample of every vertex (busy: max over subtasks; backpressure: average; rates: sums), with
/// the declared rate of sources whose table is in `declared` (by table name).
pub async fn sample(client: &FlinkClient, job: &JobId, graph: &JobGraph, declared: &BTreeMap<String, f64>, at_ms: i64) -> flinkops_rest::Result<MetricSample> {
    let mut vertices = BTreeMap::new();
    for v in &graph.vertices {
        let metrics = client.subtask_metrics(job, &VertexId::from_flink(v.id.clone()), &METRICS, &[Aggregation::Max, Aggregation::Avg, Aggregation::Sum]).await?;
        let get = |name: &str| metrics.iter().find(|m| m.id == name);
        let finite = |x: Option<f64>| x.filter(|v| v.is_finite());
        vertices.insert(
            v.id.clone(),
            VertexSample {
                busy_ms_per_s: finite(get(METRICS[0]).and_then(|m| m.max)),
                backpressured_ms_per_s: finite(get(METRICS[1]).and_then(|m| m.avg)),
                records_in_per_s: finite(get(METRICS[2]).and_then(|m| m.sum)),
                records_out_per_s: finite(get(METRICS[3]).and_then(|m| m.sum)),
                pending_records: None,
                declared_rate_per_s: source_table(&v.name).and_then(|t| declared.get(t).copied()),
            },
        );
    }
    Ok(MetricSample { at_ms, vertices })
}

/// The table a SQL source vertex reads (`Source: orders[1] -> Calc[2]` → `orders`).
pub fn source_table(vertex_name: &str) -> Option<&str> {
    let rest = vertex_name.strip_prefix("Source: ")?;
    let end = rest.find('[')?;
    let name = rest[..end].trim();
    (!name.is_empty()).then_some(name)
}

/// The rates `datagen` tables of a SQL script are configured for (`'rows-per-second'`, records/s
/// over all of the source's subtasks), by table name (the last part of a qualified name). A
/// datagen table without the option emits as fast as it can: it declares nothing.
pub fn declared_datagen_rates(sql: &str) -> BTreeMap<String, f64> {
    let mut out = BTreeMap::new();
    let lower = sql.to_ascii_lowercase();
    let mut at = 0;
    while let Some(i) = lower[at..].find("create") {
        let start = at + i;
        at = start + 6;
        let stmt_end = lower[start..].find(';').map_or(lower.len(), |e| start + e);
        let stmt = &lower[start..stmt_end];
        let original = &sql[start..stmt_end];
        let words: Vec<&str> = stmt.split_whitespace().take(8).collect();
        let Some(pos) = words.iter().position(|w| *w == "table") else {
            continue;
        };
        if !words[..pos].iter().all(|w| matches!(*w, "create" | "temporary" | "or" | "replace")) {
            continue;
        }
        let mut name_words = original.split_whitespace().skip(pos + 1);
        let mut name = name_words.next().unwrap_or("");
        if name.eq_ignore_ascii_case("if") {
            name = name_words.nth(2).unwrap_or("");
        }
        let name = name.split('(').next().unwrap_or("").rsplit('.').next().unwrap_or("").trim_matches('`');
        let options = option_pairs(stmt);
        if options.iter().any(|(k, v)| k == "connector" && v == "datagen")
            && let Some(rate) = options.iter().find(|(k, _)| k == "rows-per-second").and_then(|(_, v)| v.parse::<f64>().ok())
            && !name.is_empty()
            && rate.is_finite()
            && rate >= 0.0
        {
            out.insert(name.to_string(), rate);
        }
    }
    out
}

/// `'key' = 'value'` pairs of a statement (lower case), in order.
fn option_pairs(stmt: &str) -> Vec<(String, String)> {
    let quoted: Vec<&str> = stmt.split('\'').collect();
    // quoted[1], quoted[3], … are inside quotes; a pair is two quoted strings joined by `=`.
    let mut out = Vec::new();
    let mut i = 1;
    while i + 2 < quoted.len() {
        if quoted[i + 1].trim() == "=" {
            out.push((quoted[i].trim().to_string(), quoted[i + 2].trim().to_string()));
            i += 4;
        } else {
            i += 2;
        }
    }
    out
}

/// Builds the core's settings from the spec's `autoscaler` section.
///
/// Defaults differ from the core's in one place: stabilization is 75 s, because Flink's
/// `…PerSecond` rates are 60-second moving averages — in a task's first minute they count time
/// it did not run, and a window starting then underestimates every rate (and over-scales).
pub fn settings(a: &flinkops_spec::types::Autoscaler) -> std::result::Result<Settings, String> {
    let dur = |field: &str, v: &Option<String>| -> std::result::Result<Option<u64>, String> {
        v.as_deref()
            .map(|s| {
                flinkops_config::units::parse_duration(s)
                    .map(|d| u64::try_from(d.as_millis()).unwrap_or(u64::MAX))
                    .map_err(|e| format!("autoscaler.{field} `{s}` is not a duration: {e}"))
            })
            .transpose()
    };
    let d = Settings::default();
    let target = a.target_utilization.unwrap_or(d.target_utilization);
    let window = dur("metricsWindow", &a.metrics_window)?.unwrap_or(d.window_ms);
    let s = Settings {
        target_utilization: target,
        scale_up_threshold: d.scale_up_threshold.max(target),
        scale_down_threshold: d.scale_down_threshold.min(target),
        min_parallelism: a.min_parallelism.unwrap_or(d.min_parallelism),
        max_parallelism: a.max_parallelism.unwrap_or(d.max_parallelism),
        window_ms: window,
        min_window_ms: (window / 2).max(1),
        stabilization_ms: dur("stabilizationInterval", &a.stabilization_interval)?.unwrap_or(75_000),
        scale_down_delay_ms: dur("scaleDownInterval", &a.scale_down_interval)?.unwrap_or(d.scale_down_delay_ms),
        ..d
    };
    s.validate().map_err(|e| e.to_string())?;
    Ok(s)
}

/// Whether the autoscaler rescaled the job within [`RESCALE_QUIET_MS`] before `now`.
pub fn recently_rescaled(shared: &Shared, key: &str, now: i64) -> bool {
    shared.autoscale.lock().unwrap_or_else(|p| p.into_inner()).get(key).and_then(|m| m.rescaled_at_ms).is_some_and(|t| now - t < RESCALE_QUIET_MS)
}

/// One autoscaler step of a running job. Returns whether it rescaled.
/// `versions`: the job's stored spec versions, as the reconcile step read them.
pub async fn step(shared: &Shared, mj: &ManagedJob, env: &EnvRuntime, client: &FlinkClient, flink_job_id: &str, versions: &[SpecVersion], meta: &mut Meta) -> Result<bool> {
    let Some(settings) = &mj.autoscaler else {
        return Ok(false);
    };
    let now = now_ms();
    {
        let all = shared.autoscale.lock().unwrap_or_else(|p| p.into_inner());
        if let Some(mem) = all.get(&mj.key)
            && mem.flink_job == flink_job_id
            && mem.samples.last().is_some_and(|s| now - s.at_ms < SAMPLE_EVERY.as_millis() as i64)
        {
            return Ok(false);
        }
    }
    let id: JobId = flink_job_id.parse().map_err(|e| Error::Corrupt(format!("`{flink_job_id}` is not a Flink job id: {e}")))?;
    let job = client.job(&id).await?;
    // Only a job whose every task runs is measured (not while it deploys or restarts).
    if job.state != JobState::Running || job.vertices.iter().any(|v| v.status != ExecutionState::Running) {
        return Ok(false);
    }
    let graph = job_graph(&job);
    let mut stored: Stored = meta.get(META_STATE)?.unwrap_or_default();
    if stored.flink_job != flink_job_id {
        // A new Flink job (deployment, upgrade, recovery): its start counts as a rescale (the
        // stabilization period runs from it); nothing of the old job's memory applies.
        stored = Stored { flink_job: flink_job_id.to_string(), state: State { last_rescale_ms: Some(job.start_time.max(0)), ..State::default() }, carried: false };
        meta.put(shared, META_STATE, Some(&stored)).await?;
    }

    // Stabilization runs from when the tasks run again after a (re)start — a restart takes a
    // while, and Flink's `…PerSecond` rates are 60 s averages from then on (a window that
    // starts earlier sees rates too low: a rate-limited source then looks saturated).
    if let Some(running_since) = job.vertices.iter().map(|v| v.start_time).max().filter(|t| *t > 0)
        && stored.state.last_rescale_ms.is_some_and(|last| running_since > last)
    {
        stored.state.last_rescale_ms = Some(running_since);
        meta.put(shared, META_STATE, Some(&stored)).await?;
    }

    // The highest parallelism slots allow: those the job holds (slot sharing: its highest
    // vertex parallelism), the free ones, and on local targets those of the TaskManagers serve
    // may still start (`taskManager.maxReplicas`).
    let mut settings = settings.clone();
    let holds = graph.vertices.iter().map(|v| v.parallelism).max().unwrap_or(1);
    let mut slots_at_hand = None;
    if let Ok(o) = client.overview().await {
        slots_at_hand = Some(holds + o.slots_available);
        settings.max_parallelism = settings.max_parallelism.min(holds + o.slots_available + env.growable_slots()).max(settings.min_parallelism);
    }

    // A new Flink job of a job the autoscaler rescaled before runs with that parallelism again.
    if !stored.carried {
        stored.carried = true;
        let overrides: Overrides = meta.get(META_OVERRIDES)?.unwrap_or_default();
        let changes: BTreeMap<String, u32> = graph
            .vertices
            .iter()
            .filter_map(|v| {
                let p = (*overrides.by_name.get(&stable_name(&v.name))?).clamp(settings.min_parallelism, settings.max_parallelism.min(v.max_parallelism));
                (p != v.parallelism).then(|| (v.id.clone(), p))
            })
            .collect();
        if !changes.is_empty() && !in_place_supported(client, &id).await? {
            // Without the adaptive scheduler the parallelism is carried at submission only
            // (overrides by id, the SQL runner's by name); a restart just for it is not made.
            tracing::info!(job = %mj.key, "autoscaler: the new Flink job {flink_job_id} does not run at the carried parallelism and its scheduler cannot rescale in place");
        } else if !changes.is_empty() {
            let mut reason = format!("carry the autoscaler's parallelism into the new Flink job {flink_job_id}: {}", describe(&graph, &changes));
            reason.push_str(&ensure_slots(env, client, &graph, &changes, slots_at_hand).await?);
            rescale(shared, mj, client, &id, &changes, &reason).await?;
            stored.state.last_rescale_ms = Some(now_ms());
            meta.put(shared, META_STATE, Some(&stored)).await?;
            tracing::info!(job = %mj.key, "autoscaler: {reason}");
            return Ok(true);
        }
        meta.put(shared, META_STATE, Some(&stored)).await?;
    }

    // The rates the deployed SQL declares for its datagen sources.
    let declared = declared_rates(versions, &job.name);
    let sample = sample(client, &id, &graph, &declared, now).await?;

    let (decision, next, samples_len) = {
        let mut all = shared.autoscale.lock().unwrap_or_else(|p| p.into_inner());
        let mem = all.entry(mj.key.clone()).or_default();
        if mem.flink_job != flink_job_id {
            *mem = Memory { flink_job: flink_job_id.to_string(), ..Memory::default() };
        }
        mem.samples.push(sample);
        flinkops_autoscale::retain_history(&mut mem.samples, &settings, &stored.state, now);
        let (d, next) = flinkops_autoscale::decide(&graph, &mem.samples, &settings, &stored.state, now).map_err(|e| Error::Input(format!("autoscaler of {}: {e}", mj.key)))?;
        (d, next, mem.samples.len())
    };
    tracing::debug!(job = %mj.key, status = ?decision.status, samples = samples_len, "autoscaler: {}", decision.explanation);

    if decision.status != Status::Rescale {
        if next != stored.state {
            stored.state = next;
            meta.put(shared, META_STATE, Some(&stored)).await?;
        }
        record_if_new(shared, mj, &decision, false).await?;
        return Ok(false);
    }

    // Rescale: intent first, then the request; the new state only when it was accepted.
    let changes = decision.changes();
    let mut summary = summary(&decision);
    summary.push_str(&ensure_slots(env, client, &graph, &changes, slots_at_hand).await?);
    let before: Overrides = meta.get(META_OVERRIDES)?.unwrap_or_default();
    let after = with_changes(&before, &graph, &changes);
    if in_place_supported(client, &id).await? {
        rescale(shared, mj, client, &id, &changes, &summary).await?;
        meta.put(shared, META_OVERRIDES, Some(&after)).await?;
    } else {
        // No adaptive scheduler: stop with a savepoint and submit again at the new parallelism
        // (the reconcile loop walks the intent; the submission sets the overrides).
        let before = with_changes(&before, &graph, &BTreeMap::new());
        begin_rescale_by_savepoint(shared, mj, flink_job_id, meta, before, after, &summary).await?;
    }
    stored.state = next;
    meta.put(shared, META_STATE, Some(&stored)).await?;
    record_if_new(shared, mj, &decision, true).await?;
    tracing::info!(job = %mj.key, "autoscaler rescaled: {summary}");
    Ok(true)
}

/// Starts TaskManagers when the new parallelism needs more slots than the job holds plus the free
/// ones (local targets, up to `taskManager.maxReplicas`), and waits for them to register, so that
/// the adaptive scheduler rescales once, onto all of them. Returns what it did, for the reason.
async fn ensure_slots(env: &EnvRuntime, client: &FlinkClient, graph: &JobGraph, changes: &BTreeMap<String, u32>, slots_at_hand: Option<u32>) -> Result<String> {
    let Some(at_hand) = slots_at_hand else { return Ok(String::new()) };
    let needed = graph.vertices.iter().map(|v| changes.get(&v.id).copied().unwrap_or(v.parallelism)).max().unwrap_or(1);
    if needed <= at_hand {
        return Ok(String::new());
    }
    let added = env.add_taskmanagers(client, needed - at_hand).await?;
    env.invalidate_overview();
    Ok(if added.is_empty() { String::new() } else { format!(" (started {} for {} more slot(s))", added.join(", "), needed - at_hand) })
}

/// `base` with every vertex of `graph` at its parallelism after `changes` (by id and by stable name).
fn with_changes(base: &Overrides, graph: &JobGraph, changes: &BTreeMap<String, u32>) -> Overrides {
    let mut out = base.clone();
    for v in &graph.vertices {
        let p = changes.get(&v.id).copied().unwrap_or(v.parallelism);
        out.by_id.insert(v.id.clone(), p);
        out.by_name.insert(stable_name(&v.name), p);
    }
    out
}

/// Whether the job's scheduler changes parallelism in place (Flink's adaptive scheduler answers
/// `GET /jobs/:id/resource-requirements`; the default scheduler refuses: "does not support
/// changing the parallelism without a job restart").
async fn in_place_supported(client: &FlinkClient, id: &JobId) -> Result<bool> {
    match client.resource_requirements(id).await {
        Ok(_) => Ok(true),
        Err(flinkops_rest::Error::Http { errors, .. }) if errors.iter().any(|e| e.contains("does not support changing the parallelism")) => Ok(false),
        Err(e) => Err(e.into()),
    }
}

/// Records a rescale by savepoint as intent: the reconcile loop stops the job with a savepoint,
/// submits the deployed version from it at `after` and, if that does not run and checkpoint
/// within the upgrade deadline, at `before` again from the same savepoint.
async fn begin_rescale_by_savepoint(shared: &Shared, mj: &ManagedJob, flink_job_id: &str, meta: &Meta, before: Overrides, after: Overrides, summary: &str) -> Result<()> {
    use flinkops_control::lifecycle::VersionRef;
    use flinkops_control::lifecycle::upgrade::ParallelismChange;
    let deployed: VersionRef = meta.get(crate::reconcile::meta::DEPLOYED)?.ok_or_else(|| Error::Corrupt(format!("{}: a running job without a deployed version", mj.key)))?;
    let mut intent = flinkops_control::lifecycle::UpgradeIntent::new(deployed.clone(), deployed, flink_job_id.to_string(), mj.upgrade_health_timeout_ms);
    intent.parallelism = Some(ParallelismChange { before, after });
    shared
        .store
        .begin_intent(&NewIntent {
            job: mj.key.clone(),
            kind: IntentKind::RescaleBySavepoint,
            reason: format!("{summary} (the job's scheduler cannot rescale in place: stop with a savepoint, submit again)"),
            payload: intent.to_json(),
            created_at: now_ms(),
        })
        .await?;
    {
        let mut all = shared.autoscale.lock().unwrap_or_else(|p| p.into_inner());
        all.entry(mj.key.clone()).or_default().rescaled_at_ms = Some(now_ms());
    }
    Ok(())
}

fn describe(graph: &JobGraph, changes: &BTreeMap<String, u32>) -> String {
    graph.vertices.iter().filter_map(|v| changes.get(&v.id).map(|p| format!("{} {} → {p}", short(&v.name), v.parallelism))).collect::<Vec<_>>().join(", ")
}

/// Records a rescale intent, asks the adaptive scheduler for the new parallelism and finishes
/// the intent with the outcome.
async fn rescale(shared: &Shared, mj: &ManagedJob, client: &FlinkClient, id: &JobId, changes: &BTreeMap<String, u32>, reason: &str) -> Result<()> {
    let intent = shared
        .store
        .begin_intent(&NewIntent { job: mj.key.clone(), kind: IntentKind::Rescale, reason: reason.to_string(), payload: json!({"flink_job_id": id.as_str(), "changes": changes}), created_at: now_ms() })
        .await?;
    let result = async {
        let mut req = client.resource_requirements(id).await?;
        for (vertex, p) in changes {
            // lowerBound 1: the adaptive scheduler runs the vertex with the slots it gets, up to
            // the new parallelism, and never stalls the job waiting for slots.
            req.insert(VertexId::from_flink(vertex.clone()), VertexResourceRequirements::new(1, *p));
        }
        client.set_resource_requirements(id, &req).await
    }
    .await;
    match result {
        Ok(()) => {
            shared.store.finish_intent(intent.id, IntentState::Done, None, now_ms()).await?;
            {
                let mut all = shared.autoscale.lock().unwrap_or_else(|p| p.into_inner());
                let mem = all.entry(mj.key.clone()).or_default();
                if mem.flink_job != id.as_str() {
                    *mem = Memory { flink_job: id.as_str().to_string(), ..Memory::default() };
                }
                mem.rescaled_at_ms = Some(now_ms());
            }
            shared.metrics.action("rescale", "ok");
            Ok(())
        }
        Err(e) => {
            shared.store.finish_intent(intent.id, IntentState::Failed, Some(&e.to_string()), now_ms()).await?;
            shared.metrics.action("rescale", "failed");
            Err(e.into())
        }
    }
}

/// The parallelism the autoscaler set for the next submission of an autoscaled job (see
/// [`META_OVERRIDES`]), if it has rescaled it: by vertex id for
/// `pipeline.jobvertex-parallelism-overrides`, by stable vertex name for the SQL runner.
pub async fn parallelism_overrides(shared: &Shared, mj: &ManagedJob) -> Result<Option<Overrides>> {
    if mj.autoscaler.is_none() {
        return Ok(None);
    }
    let Some(v) = shared.store.meta(&mj.key, META_OVERRIDES).await? else { return Ok(None) };
    let o: Overrides = serde_json::from_value(v).map_err(|e| Error::Corrupt(format!("stored setting {}/{META_OVERRIDES}: {e}", mj.key)))?;
    Ok((!o.by_id.is_empty() || !o.by_name.is_empty()).then_some(o))
}

/// `pipeline.jobvertex-parallelism-overrides` (`<vertex id>:<parallelism>,…`).
pub fn overrides_by_id(o: &Overrides) -> Option<String> {
    (!o.by_id.is_empty()).then(|| o.by_id.iter().map(|(k, p)| format!("{k}:{p}")).collect::<Vec<_>>().join(","))
}

/// The deployed version's declared datagen rates (SQL jobs; nothing for jars).
fn declared_rates(versions: &[SpecVersion], flink_job_name: &str) -> BTreeMap<String, f64> {
    let hash = flinkops_control::lifecycle::plan::parse_flink_job_name(flink_job_name).map(|(_, h)| h);
    let spec = versions.iter().rev().find(|v| flinkops_control::lifecycle::plan::same_spec(hash, &v.spec_hash));
    match spec.map(|v| RuntimeSpec::from_json(&v.spec)) {
        Some(Ok(RuntimeSpec { program: Program::Sql { script }, .. })) => declared_datagen_rates(&script),
        _ => BTreeMap::new(),
    }
}

/// One line: what changes.
pub fn summary(d: &Decision) -> String {
    let changed: Vec<String> =
        d.vertices.iter().filter(|v| v.new_parallelism != v.current_parallelism).map(|v| format!("{} {} → {}", short(&v.name), v.current_parallelism, v.new_parallelism)).collect();
    match d.status {
        Status::Rescale => format!("rescale: {}", changed.join(", ")),
        Status::Steady => "steady: every vertex keeps its parallelism".to_string(),
        Status::Collecting => "collecting metrics".to_string(),
        Status::Stabilizing => "stabilizing after a (re)start".to_string(),
    }
}

fn short(name: &str) -> String {
    let s: String = name.chars().take(48).collect();
    if s.len() < name.len() { format!("{s}…") } else { s }
}

/// Stores the decision when it rescales, or when its status or parallelism differs from the last
/// one stored (a steady job does not fill the store).
async fn record_if_new(shared: &Shared, mj: &ManagedJob, d: &Decision, applied: bool) -> Result<()> {
    let key = (d.status, d.vertices.iter().map(|v| (v.id.clone(), v.new_parallelism)).collect::<BTreeMap<_, _>>());
    {
        let mut all = shared.autoscale.lock().unwrap_or_else(|p| p.into_inner());
        let mem = all.entry(mj.key.clone()).or_default();
        if !applied && mem.last_recorded.as_ref() == Some(&key) {
            return Ok(());
        }
        mem.last_recorded = Some(key);
    }
    let decision = serde_json::to_value(d).map_err(|e| Error::Corrupt(format!("serializing a decision: {e}")))?;
    shared.store.record_scaling(&ScalingRecord { id: 0, job: mj.key.clone(), at: d.at_ms, applied, summary: summary(d), decision }, DECISIONS_KEPT).await?;
    Ok(())
}

/// The autoscaler samples at every reconcile step, but not more often than this (steps come
/// sooner after actions and commands).
pub const SAMPLE_EVERY: Duration = Duration::from_secs(4);

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn source_tables_from_vertex_names() {
        assert_eq!(source_table("Source: src[1]"), Some("src"));
        assert_eq!(source_table("Source: orders[9] -> Calc[10]"), Some("orders"));
        assert_eq!(source_table("GroupAggregate[3] -> Sink: snk[4]"), None);
        assert_eq!(source_table("Source: [1]"), None);
    }

    #[test]
    fn stable_names_drop_the_planners_node_numbers() {
        assert_eq!(stable_name("GroupAggregate[8] -> Calc[9] -> ConstraintEnforcer[10] -> snk[10]: Writer"), "GroupAggregate -> Calc -> ConstraintEnforcer -> snk: Writer");
        assert_eq!(stable_name("Source: src[1]"), "Source: src");
        assert_eq!(stable_name("Map [x] -> a[] -> b[12"), "Map [x] -> a[] -> b[12");
        assert_eq!(stable_name(""), "");
    }

    #[test]
    fn datagen_rates_from_sql() {
        let sql = "SET 'pipeline.name' = 'x';\n\
                   CREATE TABLE src (k BIGINT, v STRING) WITH (\n  'connector' = 'datagen',\n  'rows-per-second' = '6000',\n  'fields.k.min' = '1'\n);\n\
                   create temporary table IF NOT EXISTS cat.db.`Clicks` (a INT) with ('rows-per-second'='250.5', 'connector'='datagen');\n\
                   CREATE TABLE fast (a INT) WITH ('connector' = 'datagen');\n\
                   CREATE TABLE other (a INT) WITH ('connector' = 'kafka', 'rows-per-second' = '9');\n\
                   CREATE VIEW v AS SELECT 1;\n\
                   INSERT INTO snk SELECT * FROM src;";
        let r = declared_datagen_rates(sql);
        assert_eq!(r.into_iter().collect::<Vec<_>>(), vec![("Clicks".to_string(), 250.5), ("src".to_string(), 6000.0)]);
        assert!(declared_datagen_rates("").is_empty());
        assert!(declared_datagen_rates("CREATE TABLE t (a INT) WITH ('connector' = 'datagen', 'rows-per-second' = 'lots');").is_empty());
        // never panics on unbalanced quotes or truncated statements
        assert!(declared_datagen_rates("create table 'x").is_empty());
        assert!(declared_datagen_rates("CREATE").is_empty());
    }

    #[test]
    fn settings_from_the_spec() {
        let a = flinkops_spec::types::Autoscaler {
            enabled: true,
            target_utilization: Some(0.6),
            min_parallelism: Some(1),
            max_parallelism: Some(8),
            metrics_window: Some("40s".into()),
            stabilization_interval: None,
            scale_down_interval: Some("2m".into()),
        };
        let s = settings(&a).expect("valid");
        assert_eq!((s.target_utilization, s.max_parallelism, s.window_ms, s.min_window_ms, s.stabilization_ms, s.scale_down_delay_ms), (0.6, 8, 40_000, 20_000, 75_000, 120_000));
        let bad = flinkops_spec::types::Autoscaler { metrics_window: Some("soon".into()), ..a.clone() };
        assert!(settings(&bad).unwrap_err().contains("metricsWindow"), "names the field");
        let bad = flinkops_spec::types::Autoscaler { min_parallelism: Some(9), ..a };
        assert!(settings(&bad).is_err());
    }
}
