//! [`SqlStore`]: the [`Store`] over SQLite or PostgreSQL through sqlx's `Any` driver, with one
//! set of portable SQL (`$n` parameters work on both; `ON CONFLICT … DO UPDATE`, `RETURNING` and
//! partial unique indexes too). Runtime queries only: no compile-time checked macros.

use std::path::Path;
use std::str::FromStr;

use sqlx::any::{AnyConnectOptions, AnyPoolOptions, AnyRow};
use sqlx::{AnyPool, Row};

use super::migrations::{MIGRATIONS, latest_version};
use super::{AlertState, Delivery, Intent, IntentState, MetricPoint, NewIntent, ObservedJob, ScalingRecord, Snapshot, SnapshotStatus, SpecVersion, Store};
use crate::{Error, Result};

/// Which database a [`SqlStore`] talks to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Backend {
    Sqlite,
    Postgres,
}

impl Backend {
    fn name(self) -> &'static str {
        match self {
            Backend::Sqlite => "sqlite",
            Backend::Postgres => "postgres",
        }
    }
}

/// The SQLite file's name inside the store directory.
pub const SQLITE_FILE: &str = "flinkops.db";

/// The SQL store. Cheap to clone (a connection pool).
#[derive(Debug, Clone)]
pub struct SqlStore {
    pool: AnyPool,
    backend: Backend,
}

pub(crate) fn install_drivers() {
    // Installing twice returns an error we can ignore: the drivers are the same.
    let _ = sqlx::any::install_drivers(&[sqlx::postgres::any::DRIVER, sqlx::sqlite::any::DRIVER]);
}

/// Deletes all but the newest `$3` samples of one series (`$1` job, `$2` metric; newest by `ts`,
/// then `id`): everything from the (`$3`+1)-th newest on, found by walking the series index.
/// (`id NOT IN (SELECT … LIMIT $3)` compared every row of the series with a materialized list:
/// with full series of 720, the dashboard's hour, storing a sample took 0.67 ms instead of
/// 0.21 ms on SQLite in a debug build, insert included.)
const TRIM_SERIES: &str = "DELETE FROM metric_history WHERE job = $1 AND metric = $2 AND (ts, id) <= \
     (SELECT ts, id FROM metric_history WHERE job = $1 AND metric = $2 ORDER BY ts DESC, id DESC LIMIT 1 OFFSET $3)";

impl SqlStore {
    /// Opens the store at `location`: `postgres://…` (or `postgresql://…`), `sqlite://FILE`, or a
    /// directory that holds (or will hold) `flinkops.db`. Applies pending migrations.
    pub async fn open(location: &str) -> Result<SqlStore> {
        if location.starts_with("postgres://") || location.starts_with("postgresql://") {
            return SqlStore::open_postgres(location).await;
        }
        if let Some(rest) = location.strip_prefix("sqlite://").or_else(|| location.strip_prefix("sqlite:")) {
            return SqlStore::open_sqlite_file(Path::new(rest)).await;
        }
        if location.contains("://") {
            return Err(Error::BadStoreUrl { url: location.into(), why: "unknown scheme".into() });
        }
        SqlStore::open_sqlite_dir(Path::new(location)).await
    }

    /// Opens (creating it if needed) the SQLite store `DIR/flinkops.db` in WAL mode.
    pub async fn open_sqlite_dir(dir: &Path) -> Result<SqlStore> {
        std::fs::create_dir_all(dir).map_err(Error::io("creating the store directory", dir))?;
        SqlStore::open_sqlite_file(&dir.join(SQLITE_FILE)).await
    }

    async fn open_sqlite_file(file: &Path) -> Result<SqlStore> {
        let bad = |why: &str| Error::BadStoreUrl { url: file.display().to_string(), why: why.into() };
        let parent = file.parent().filter(|p| !p.as_os_str().is_empty()).unwrap_or(Path::new("."));
        let parent = parent.canonicalize().map_err(Error::io("finding the store directory", parent))?;
        let name = file.file_name().ok_or_else(|| bad("no file name"))?;
        let abs = parent.join(name);
        let url = url::Url::from_file_path(&abs).map_err(|()| bad("not an absolute path"))?;
        let url = format!("sqlite://{}?mode=rwc", url.path());
        install_drivers();
        let opts = AnyConnectOptions::from_str(&url).map_err(|e| bad(&e.to_string()))?;
        let pool = AnyPoolOptions::new()
            .max_connections(4)
            .after_connect(|conn, _| {
                Box::pin(async move {
                    // Writers wait for each other instead of failing at once.
                    sqlx::raw_sql("PRAGMA busy_timeout = 5000").execute(&mut *conn).await?;
                    Ok(())
                })
            })
            .connect_with(opts)
            .await
            .map_err(|source| Error::Store { backend: "sqlite", action: "opening", source })?;
        let store = SqlStore { pool, backend: Backend::Sqlite };
        // WAL is a property of the file: set once, it stays.
        let mode: String = sqlx::query_scalar("PRAGMA journal_mode = WAL").fetch_one(&store.pool).await.map_err(store.err("enabling WAL"))?;
        if !mode.eq_ignore_ascii_case("wal") {
            return Err(bad(&format!("SQLite refused WAL mode (journal_mode is {mode})")));
        }
        store.migrate().await?;
        Ok(store)
    }

    /// Opens a PostgreSQL store and applies pending migrations.
    pub async fn open_postgres(url: &str) -> Result<SqlStore> {
        install_drivers();
        let opts = AnyConnectOptions::from_str(url).map_err(|e| Error::BadStoreUrl { url: redact(url), why: e.to_string() })?;
        let pool = AnyPoolOptions::new()
            .max_connections(8)
            .acquire_timeout(std::time::Duration::from_secs(10))
            .connect_with(opts)
            .await
            .map_err(|source| Error::Unreachable { url: redact(url), cause: source })?;
        let store = SqlStore { pool, backend: Backend::Postgres };
        store.migrate().await?;
        Ok(store)
    }

    /// A transaction that writes. SQLite's default (deferred) transaction starts as a reader and
    /// fails at once with "database is locked" when it upgrades to a writer after another
    /// connection wrote (the busy timeout does not apply to that upgrade); `BEGIN IMMEDIATE`
    /// takes the write lock first, so concurrent writers wait their turn.
    async fn write_tx(&self) -> std::result::Result<sqlx::Transaction<'static, sqlx::Any>, sqlx::Error> {
        match self.backend {
            Backend::Sqlite => self.pool.begin_with("BEGIN IMMEDIATE").await,
            Backend::Postgres => self.pool.begin().await,
        }
    }

    /// Which database this is.
    pub fn backend(&self) -> Backend {
        self.backend
    }

    /// Appends many samples in one write transaction and keeps only the newest `keep` of each
    /// series (job, metric) they belong to — what [`Store::record_metric`] does for one sample,
    /// with one commit (one WAL sync on SQLite) instead of one per sample.
    pub async fn record_metrics(&self, points: &[(String, String, MetricPoint)], keep: i64) -> Result<()> {
        if points.is_empty() {
            return Ok(());
        }
        let e = || self.err("recording metrics");
        let mut tx = self.write_tx().await.map_err(e())?;
        for (job, metric, point) in points {
            sqlx::query("INSERT INTO metric_history (job, metric, ts, value) VALUES ($1, $2, $3, $4)")
                .bind(job.as_str())
                .bind(metric.as_str())
                .bind(point.ts)
                .bind(point.value)
                .execute(&mut *tx)
                .await
                .map_err(e())?;
        }
        let series: std::collections::BTreeSet<(&str, &str)> = points.iter().map(|(j, m, _)| (j.as_str(), m.as_str())).collect();
        for (job, metric) in series {
            sqlx::query(TRIM_SERIES)
            .bind(job)
            .bind(metric)
            .bind(keep.max(0))
            .execute(&mut *tx)
            .await
            .map_err(e())?;
        }
        tx.commit().await.map_err(e())?;
        Ok(())
    }

    /// Closes the pool (waits for connections to be returned).
    pub async fn close(&self) {
        self.pool.close().await;
    }

    fn err(&self, action: &'static str) -> impl FnOnce(sqlx::Error) -> Error + use<> {
        let backend = self.backend.name();
        move |source| Error::Store { backend, action, source }
    }

    /// Applies every migration newer than the store's schema, each in its own transaction.
    /// Idempotent; refuses a schema newer than this binary.
    pub async fn migrate(&self) -> Result<Vec<i64>> {
        let e = || self.err("migrating the schema");
        sqlx::raw_sql("CREATE TABLE IF NOT EXISTS flinkops_migrations (version BIGINT PRIMARY KEY, name TEXT NOT NULL, applied_at BIGINT NOT NULL)")
            .execute(&self.pool)
            .await
            .map_err(e())?;
        let mut applied = Vec::new();
        for m in MIGRATIONS {
            let mut tx = self.write_tx().await.map_err(e())?;
            if self.backend == Backend::Postgres {
                // Serialises concurrent openers; released at commit.
                sqlx::query("SELECT 1 AS locked FROM (SELECT pg_advisory_xact_lock(7262730401)) AS l").fetch_all(&mut *tx).await.map_err(e())?;
            }
            let current: i64 = sqlx::query_scalar("SELECT COALESCE(MAX(version), 0) FROM flinkops_migrations").fetch_one(&mut *tx).await.map_err(e())?;
            if current > latest_version() {
                return Err(Error::SchemaTooNew { found: current, known: latest_version() });
            }
            if current >= m.version {
                continue;
            }
            sqlx::raw_sql(sqlx::AssertSqlSafe(m.render(self.backend))).execute(&mut *tx).await.map_err(e())?;
            sqlx::query("INSERT INTO flinkops_migrations (version, name, applied_at) VALUES ($1, $2, $3)")
                .bind(m.version)
                .bind(m.name)
                .bind(super::now_ms())
                .execute(&mut *tx)
                .await
                .map_err(e())?;
            tx.commit().await.map_err(e())?;
            applied.push(m.version);
        }
        Ok(applied)
    }

    /// The schema version of the store.
    pub async fn schema_version(&self) -> Result<i64> {
        sqlx::query_scalar("SELECT COALESCE(MAX(version), 0) FROM flinkops_migrations").fetch_one(&self.pool).await.map_err(self.err("reading the schema version"))
    }
}

/// The URL without its password, for messages.
fn redact(url: &str) -> String {
    match url::Url::parse(url) {
        Ok(mut u) if u.password().is_some() => {
            let _ = u.set_password(Some("***"));
            u.to_string()
        }
        Ok(u) => u.to_string(),
        Err(_) => "<unparsable URL>".into(),
    }
}

fn parse<T: FromStr<Err = String>>(what: &str, s: &str) -> Result<T> {
    s.parse().map_err(|detail| Error::Corrupt { what: what.into(), detail })
}

fn col<'r, T>(row: &'r AnyRow, name: &str) -> Result<T>
where
    T: sqlx::Decode<'r, sqlx::Any> + sqlx::Type<sqlx::Any>,
{
    row.try_get(name).map_err(|e| Error::Corrupt { what: format!("column {name}"), detail: e.to_string() })
}

fn spec_from(row: &AnyRow) -> Result<SpecVersion> {
    Ok(SpecVersion { job: col(row, "job")?, version: col(row, "version")?, spec_hash: col(row, "spec_hash")?, spec: col(row, "spec")?, created_at: col(row, "created_at")? })
}

fn observed_from(row: &AnyRow) -> Result<ObservedJob> {
    Ok(ObservedJob {
        job: col(row, "job")?,
        flink_job_id: col(row, "flink_job_id")?,
        state: col(row, "state")?,
        phase: col(row, "phase")?,
        spec_version: col(row, "spec_version")?,
        last_checkpoint: col(row, "last_checkpoint")?,
        last_savepoint: col(row, "last_savepoint")?,
        restored_from: col(row, "restored_from")?,
        health: col(row, "health")?,
        updated_at: col(row, "updated_at")?,
    })
}

fn snapshot_from(row: &AnyRow) -> Result<Snapshot> {
    Ok(Snapshot {
        id: col(row, "id")?,
        path: col(row, "path")?,
        kind: parse("snapshot kind", &col::<String>(row, "kind")?)?,
        job: col(row, "job")?,
        flink_job_id: col(row, "flink_job_id")?,
        created_at: col(row, "created_at")?,
        status: parse("snapshot status", &col::<String>(row, "status")?)?,
        size_bytes: col(row, "size_bytes")?,
        protected: col::<i64>(row, "protected")? != 0,
    })
}

fn intent_from(row: &AnyRow) -> Result<Intent> {
    let payload: String = col(row, "payload")?;
    Ok(Intent {
        id: col(row, "id")?,
        job: col(row, "job")?,
        kind: parse("intent kind", &col::<String>(row, "kind")?)?,
        reason: col(row, "reason")?,
        payload: serde_json::from_str(&payload).map_err(|e| Error::Corrupt { what: "intent payload".into(), detail: e.to_string() })?,
        state: parse("intent state", &col::<String>(row, "state")?)?,
        error: col(row, "error")?,
        created_at: col(row, "created_at")?,
        finished_at: col(row, "finished_at")?,
    })
}

fn alert_from(row: &AnyRow) -> Result<AlertState> {
    Ok(AlertState {
        job: col(row, "job")?,
        rule: col(row, "rule")?,
        status: parse("alert status", &col::<String>(row, "status")?)?,
        severity: col(row, "severity")?,
        since: col(row, "since")?,
        last_notified_at: col(row, "last_notified_at")?,
        summary: col(row, "summary")?,
        updated_at: col(row, "updated_at")?,
    })
}

const SNAPSHOT_COLS: &str = "id, path, kind, job, flink_job_id, created_at, status, size_bytes, protected";
const INTENT_COLS: &str = "id, job, kind, reason, payload, state, error, created_at, finished_at";

impl Store for SqlStore {
    async fn put_spec(&self, job: &str, spec_hash: &str, spec: &str, now: i64) -> Result<SpecVersion> {
        let e = || self.err("storing a spec version");
        let mut tx = self.write_tx().await.map_err(e())?;
        if self.backend == Backend::Postgres {
            // READ COMMITTED lets two writers read the same latest version; a per-job lock held
            // to the end of the transaction makes them number their versions one after the other.
            sqlx::query("SELECT pg_advisory_xact_lock(hashtextextended($1, 0))::text").bind(job).fetch_one(&mut *tx).await.map_err(e())?;
        }
        if let Some(row) = sqlx::query("SELECT job, version, spec_hash, spec, created_at FROM spec_versions WHERE job = $1 ORDER BY version DESC LIMIT 1")
            .bind(job)
            .fetch_optional(&mut *tx)
            .await
            .map_err(e())?
        {
            let latest = spec_from(&row)?;
            if latest.spec_hash == spec_hash {
                return Ok(latest);
            }
        }
        let next: i64 = sqlx::query_scalar("SELECT COALESCE(MAX(version), 0) + 1 FROM spec_versions WHERE job = $1").bind(job).fetch_one(&mut *tx).await.map_err(e())?;
        sqlx::query("INSERT INTO spec_versions (job, version, spec_hash, spec, created_at) VALUES ($1, $2, $3, $4, $5)")
            .bind(job)
            .bind(next)
            .bind(spec_hash)
            .bind(spec)
            .bind(now)
            .execute(&mut *tx)
            .await
            .map_err(e())?;
        tx.commit().await.map_err(e())?;
        Ok(SpecVersion { job: job.into(), version: next, spec_hash: spec_hash.into(), spec: spec.into(), created_at: now })
    }

    async fn latest_spec(&self, job: &str) -> Result<Option<SpecVersion>> {
        let row = sqlx::query("SELECT job, version, spec_hash, spec, created_at FROM spec_versions WHERE job = $1 ORDER BY version DESC LIMIT 1")
            .bind(job)
            .fetch_optional(&self.pool)
            .await
            .map_err(self.err("reading the latest spec"))?;
        row.as_ref().map(spec_from).transpose()
    }

    async fn spec_version(&self, job: &str, version: i64) -> Result<Option<SpecVersion>> {
        let row = sqlx::query("SELECT job, version, spec_hash, spec, created_at FROM spec_versions WHERE job = $1 AND version = $2")
            .bind(job)
            .bind(version)
            .fetch_optional(&self.pool)
            .await
            .map_err(self.err("reading a spec version"))?;
        row.as_ref().map(spec_from).transpose()
    }

    async fn spec_versions(&self, job: &str) -> Result<Vec<SpecVersion>> {
        let rows = sqlx::query("SELECT job, version, spec_hash, spec, created_at FROM spec_versions WHERE job = $1 ORDER BY version")
            .bind(job)
            .fetch_all(&self.pool)
            .await
            .map_err(self.err("listing spec versions"))?;
        rows.iter().map(spec_from).collect()
    }

    async fn put_observed(&self, o: &ObservedJob) -> Result<()> {
        sqlx::query(
            "INSERT INTO observed_jobs (job, flink_job_id, state, phase, spec_version, last_checkpoint, last_savepoint, restored_from, health, updated_at) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10) \
             ON CONFLICT (job) DO UPDATE SET flink_job_id = excluded.flink_job_id, state = excluded.state, phase = excluded.phase, \
             spec_version = excluded.spec_version, last_checkpoint = excluded.last_checkpoint, last_savepoint = excluded.last_savepoint, \
             restored_from = excluded.restored_from, health = excluded.health, updated_at = excluded.updated_at",
        )
        .bind(&o.job)
        .bind(o.flink_job_id.as_deref())
        .bind(&o.state)
        .bind(&o.phase)
        .bind(o.spec_version)
        .bind(o.last_checkpoint.as_deref())
        .bind(o.last_savepoint.as_deref())
        .bind(o.restored_from.as_deref())
        .bind(&o.health)
        .bind(o.updated_at)
        .execute(&self.pool)
        .await
        .map_err(self.err("storing an observed job"))?;
        Ok(())
    }

    async fn observed(&self, job: &str) -> Result<Option<ObservedJob>> {
        let row = sqlx::query("SELECT * FROM observed_jobs WHERE job = $1").bind(job).fetch_optional(&self.pool).await.map_err(self.err("reading an observed job"))?;
        row.as_ref().map(observed_from).transpose()
    }

    async fn all_observed(&self) -> Result<Vec<ObservedJob>> {
        let rows = sqlx::query("SELECT * FROM observed_jobs ORDER BY job").fetch_all(&self.pool).await.map_err(self.err("listing observed jobs"))?;
        rows.iter().map(observed_from).collect()
    }

    async fn record_snapshot(&self, s: &Snapshot) -> Result<Snapshot> {
        let row = sqlx::query(sqlx::AssertSqlSafe(format!(
            "INSERT INTO snapshots (path, kind, job, flink_job_id, created_at, status, size_bytes, protected) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8) \
             ON CONFLICT (path) DO UPDATE SET status = excluded.status, size_bytes = COALESCE(excluded.size_bytes, snapshots.size_bytes), \
             protected = CASE WHEN excluded.protected = 1 THEN 1 ELSE snapshots.protected END \
             RETURNING {SNAPSHOT_COLS}"
        )))
        .bind(&s.path)
        .bind(s.kind.as_str())
        .bind(&s.job)
        .bind(s.flink_job_id.as_deref())
        .bind(s.created_at)
        .bind(s.status.as_str())
        .bind(s.size_bytes)
        .bind(i64::from(s.protected))
        .fetch_one(&self.pool)
        .await
        .map_err(self.err("recording a snapshot"))?;
        snapshot_from(&row)
    }

    async fn set_snapshot_status(&self, path: &str, status: SnapshotStatus) -> Result<()> {
        let r = sqlx::query("UPDATE snapshots SET status = $1 WHERE path = $2")
            .bind(status.as_str())
            .bind(path)
            .execute(&self.pool)
            .await
            .map_err(self.err("updating a snapshot"))?;
        if r.rows_affected() == 0 {
            return Err(Error::NotFound { what: format!("snapshot {path}") });
        }
        Ok(())
    }

    async fn set_snapshot_protected(&self, path: &str, protected: bool) -> Result<()> {
        let r = sqlx::query("UPDATE snapshots SET protected = $1 WHERE path = $2")
            .bind(i64::from(protected))
            .bind(path)
            .execute(&self.pool)
            .await
            .map_err(self.err("updating a snapshot"))?;
        if r.rows_affected() == 0 {
            return Err(Error::NotFound { what: format!("snapshot {path}") });
        }
        Ok(())
    }

    async fn snapshots(&self, job: &str) -> Result<Vec<Snapshot>> {
        let rows = sqlx::query(sqlx::AssertSqlSafe(format!("SELECT {SNAPSHOT_COLS} FROM snapshots WHERE job = $1 ORDER BY created_at DESC, id DESC")))
            .bind(job)
            .fetch_all(&self.pool)
            .await
            .map_err(self.err("listing snapshots"))?;
        rows.iter().map(snapshot_from).collect()
    }

    async fn begin_intent(&self, i: &NewIntent) -> Result<Intent> {
        let inserted = sqlx::query(sqlx::AssertSqlSafe(format!(
            "INSERT INTO intents (job, kind, exclusive, reason, payload, state, created_at) VALUES ($1, $2, $3, $4, $5, 'pending', $6) RETURNING {INTENT_COLS}"
        )))
        .bind(&i.job)
        .bind(i.kind.as_str())
        .bind(i64::from(i.kind.is_exclusive()))
        .bind(&i.reason)
        .bind(i.payload.to_string())
        .bind(i.created_at)
        .fetch_one(&self.pool)
        .await;
        match inserted {
            Ok(row) => intent_from(&row),
            Err(sqlx::Error::Database(db)) if db.is_unique_violation() => {
                let row = sqlx::query("SELECT id, kind FROM intents WHERE job = $1 AND state = 'pending' AND exclusive = 1")
                    .bind(&i.job)
                    .fetch_optional(&self.pool)
                    .await
                    .map_err(self.err("reading the conflicting intent"))?;
                let (id, kind) = match row {
                    Some(r) => (col::<i64>(&r, "id")?, col::<String>(&r, "kind")?),
                    None => (0, "exclusive".to_string()),
                };
                Err(Error::Conflict { job: i.job.clone(), kind, id })
            }
            Err(e) => Err(self.err("recording an intent")(e)),
        }
    }

    async fn update_intent_payload(&self, id: i64, payload: &serde_json::Value) -> Result<()> {
        let r = sqlx::query("UPDATE intents SET payload = $1 WHERE id = $2 AND state = 'pending'")
            .bind(payload.to_string())
            .bind(id)
            .execute(&self.pool)
            .await
            .map_err(self.err("updating an intent"))?;
        if r.rows_affected() == 0 {
            return Err(Error::NotFound { what: format!("pending intent #{id}") });
        }
        Ok(())
    }

    async fn finish_intent(&self, id: i64, state: IntentState, error: Option<&str>, now: i64) -> Result<Intent> {
        if state == IntentState::Pending {
            return Err(Error::Corrupt { what: format!("intent #{id}"), detail: "an intent cannot be finished as pending".into() });
        }
        let row = sqlx::query(sqlx::AssertSqlSafe(format!(
            "UPDATE intents SET state = $1, error = $2, finished_at = $3 WHERE id = $4 AND state = 'pending' RETURNING {INTENT_COLS}"
        )))
        .bind(state.as_str())
        .bind(error)
        .bind(now)
        .bind(id)
        .fetch_optional(&self.pool)
        .await
        .map_err(self.err("finishing an intent"))?;
        match row {
            Some(r) => intent_from(&r),
            None => Err(Error::NotFound { what: format!("pending intent #{id}") }),
        }
    }

    async fn intent(&self, id: i64) -> Result<Option<Intent>> {
        let row = sqlx::query(sqlx::AssertSqlSafe(format!("SELECT {INTENT_COLS} FROM intents WHERE id = $1")))
            .bind(id)
            .fetch_optional(&self.pool)
            .await
            .map_err(self.err("reading an intent"))?;
        row.as_ref().map(intent_from).transpose()
    }

    async fn pending_intents(&self, job: Option<&str>) -> Result<Vec<Intent>> {
        let rows = match job {
            Some(job) => sqlx::query(sqlx::AssertSqlSafe(format!("SELECT {INTENT_COLS} FROM intents WHERE state = 'pending' AND job = $1 ORDER BY id")))
                .bind(job)
                .fetch_all(&self.pool)
                .await,
            None => sqlx::query(sqlx::AssertSqlSafe(format!("SELECT {INTENT_COLS} FROM intents WHERE state = 'pending' ORDER BY id"))).fetch_all(&self.pool).await,
        }
        .map_err(self.err("listing pending intents"))?;
        rows.iter().map(intent_from).collect()
    }

    async fn intents(&self, job: &str, limit: i64) -> Result<Vec<Intent>> {
        let rows = sqlx::query(sqlx::AssertSqlSafe(format!("SELECT {INTENT_COLS} FROM intents WHERE job = $1 ORDER BY id DESC LIMIT $2")))
            .bind(job)
            .bind(limit.max(0))
            .fetch_all(&self.pool)
            .await
            .map_err(self.err("listing intents"))?;
        rows.iter().map(intent_from).collect()
    }

    async fn put_alert(&self, a: &AlertState) -> Result<()> {
        sqlx::query(
            "INSERT INTO alerts (job, rule, status, severity, since, last_notified_at, summary, updated_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8) \
             ON CONFLICT (job, rule) DO UPDATE SET status = excluded.status, severity = excluded.severity, since = excluded.since, \
             last_notified_at = excluded.last_notified_at, summary = excluded.summary, updated_at = excluded.updated_at",
        )
        .bind(&a.job)
        .bind(&a.rule)
        .bind(a.status.as_str())
        .bind(&a.severity)
        .bind(a.since)
        .bind(a.last_notified_at)
        .bind(&a.summary)
        .bind(a.updated_at)
        .execute(&self.pool)
        .await
        .map_err(self.err("storing an alert"))?;
        Ok(())
    }

    async fn alerts(&self, job: &str) -> Result<Vec<AlertState>> {
        let rows = sqlx::query("SELECT * FROM alerts WHERE job = $1 ORDER BY rule").bind(job).fetch_all(&self.pool).await.map_err(self.err("listing alerts"))?;
        rows.iter().map(alert_from).collect()
    }

    async fn all_alerts(&self) -> Result<Vec<AlertState>> {
        let rows = sqlx::query("SELECT * FROM alerts ORDER BY job, rule").fetch_all(&self.pool).await.map_err(self.err("listing alerts"))?;
        rows.iter().map(alert_from).collect()
    }

    async fn record_metric(&self, job: &str, metric: &str, point: MetricPoint, keep: i64) -> Result<()> {
        let e = || self.err("recording a metric");
        let mut tx = self.write_tx().await.map_err(e())?;
        sqlx::query("INSERT INTO metric_history (job, metric, ts, value) VALUES ($1, $2, $3, $4)")
            .bind(job)
            .bind(metric)
            .bind(point.ts)
            .bind(point.value)
            .execute(&mut *tx)
            .await
            .map_err(e())?;
        sqlx::query(TRIM_SERIES)
        .bind(job)
        .bind(metric)
        .bind(keep.max(0))
        .execute(&mut *tx)
        .await
        .map_err(e())?;
        tx.commit().await.map_err(e())?;
        Ok(())
    }

    async fn metric_history(&self, job: &str, metric: &str) -> Result<Vec<MetricPoint>> {
        let rows = sqlx::query("SELECT ts, value FROM metric_history WHERE job = $1 AND metric = $2 ORDER BY ts, id")
            .bind(job)
            .bind(metric)
            .fetch_all(&self.pool)
            .await
            .map_err(self.err("reading metric history"))?;
        rows.iter().map(|r| Ok(MetricPoint { ts: col(r, "ts")?, value: col(r, "value")? })).collect()
    }

    async fn put_meta(&self, job: &str, key: &str, value: Option<&serde_json::Value>, now: i64) -> Result<()> {
        let q = match value {
            Some(v) => sqlx::query(
                "INSERT INTO job_meta (job, meta_key, value, updated_at) VALUES ($1, $2, $3, $4) \
                 ON CONFLICT (job, meta_key) DO UPDATE SET value = excluded.value, updated_at = excluded.updated_at",
            )
            .bind(job)
            .bind(key)
            .bind(v.to_string())
            .bind(now),
            None => sqlx::query("DELETE FROM job_meta WHERE job = $1 AND meta_key = $2").bind(job).bind(key),
        };
        q.execute(&self.pool).await.map_err(self.err("storing a job setting"))?;
        Ok(())
    }

    async fn meta(&self, job: &str, key: &str) -> Result<Option<serde_json::Value>> {
        let row = sqlx::query("SELECT value FROM job_meta WHERE job = $1 AND meta_key = $2")
            .bind(job)
            .bind(key)
            .fetch_optional(&self.pool)
            .await
            .map_err(self.err("reading a job setting"))?;
        row.map(|r| {
            let text: String = col(&r, "value")?;
            serde_json::from_str(&text).map_err(|e| Error::Corrupt { what: format!("job setting {job}/{key}"), detail: e.to_string() })
        })
        .transpose()
    }

    async fn all_meta(&self, job: &str) -> Result<std::collections::BTreeMap<String, serde_json::Value>> {
        let rows = sqlx::query("SELECT meta_key, value FROM job_meta WHERE job = $1").bind(job).fetch_all(&self.pool).await.map_err(self.err("reading a job's settings"))?;
        rows.iter()
            .map(|r| {
                let key: String = col(r, "meta_key")?;
                let text: String = col(r, "value")?;
                let value = serde_json::from_str(&text).map_err(|e| Error::Corrupt { what: format!("job setting {job}/{key}"), detail: e.to_string() })?;
                Ok((key, value))
            })
            .collect()
    }

    async fn record_delivery(&self, d: &Delivery, keep: i64) -> Result<()> {
        let e = || self.err("recording a delivery");
        let mut tx = self.write_tx().await.map_err(e())?;
        sqlx::query("INSERT INTO deliveries (job, rule, channel, kind, status, ok, error, attempts, at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)")
            .bind(&d.job)
            .bind(&d.rule)
            .bind(&d.channel)
            .bind(&d.kind)
            .bind(&d.status)
            .bind(i64::from(d.ok))
            .bind(d.error.as_deref())
            .bind(d.attempts)
            .bind(d.at)
            .execute(&mut *tx)
            .await
            .map_err(e())?;
        sqlx::query("DELETE FROM deliveries WHERE id NOT IN (SELECT id FROM deliveries ORDER BY id DESC LIMIT $1)")
            .bind(keep.max(1))
            .execute(&mut *tx)
            .await
            .map_err(e())?;
        tx.commit().await.map_err(e())?;
        Ok(())
    }

    async fn deliveries(&self, job: Option<&str>, limit: i64) -> Result<Vec<Delivery>> {
        let q = match job {
            Some(j) => sqlx::query("SELECT id, job, rule, channel, kind, status, ok, error, attempts, at FROM deliveries WHERE job = $1 ORDER BY id DESC LIMIT $2")
                .bind(j.to_string())
                .bind(limit),
            None => sqlx::query("SELECT id, job, rule, channel, kind, status, ok, error, attempts, at FROM deliveries ORDER BY id DESC LIMIT $1").bind(limit),
        };
        let rows = q.fetch_all(&self.pool).await.map_err(self.err("listing deliveries"))?;
        rows.iter()
            .map(|r| {
                Ok(Delivery {
                    id: col(r, "id")?,
                    job: col(r, "job")?,
                    rule: col(r, "rule")?,
                    channel: col(r, "channel")?,
                    kind: col(r, "kind")?,
                    status: col(r, "status")?,
                    ok: col::<i64>(r, "ok")? != 0,
                    error: col(r, "error")?,
                    attempts: col(r, "attempts")?,
                    at: col(r, "at")?,
                })
            })
            .collect()
    }

    async fn record_scaling(&self, rec: &ScalingRecord, keep: i64) -> Result<()> {
        let e = || self.err("recording a scaling decision");
        let mut tx = self.write_tx().await.map_err(e())?;
        sqlx::query("INSERT INTO scaling_decisions (job, at, applied, summary, decision) VALUES ($1, $2, $3, $4, $5)")
            .bind(&rec.job)
            .bind(rec.at)
            .bind(i64::from(rec.applied))
            .bind(&rec.summary)
            .bind(rec.decision.to_string())
            .execute(&mut *tx)
            .await
            .map_err(e())?;
        sqlx::query("DELETE FROM scaling_decisions WHERE job = $1 AND id NOT IN (SELECT id FROM scaling_decisions WHERE job = $1 ORDER BY id DESC LIMIT $2)")
            .bind(&rec.job)
            .bind(keep.max(1))
            .execute(&mut *tx)
            .await
            .map_err(e())?;
        tx.commit().await.map_err(e())?;
        Ok(())
    }

    async fn scalings(&self, job: &str, limit: i64) -> Result<Vec<ScalingRecord>> {
        let rows = sqlx::query("SELECT id, job, at, applied, summary, decision FROM scaling_decisions WHERE job = $1 ORDER BY id DESC LIMIT $2")
            .bind(job)
            .bind(limit)
            .fetch_all(&self.pool)
            .await
            .map_err(self.err("listing scaling decisions"))?;
        rows.iter()
            .map(|r| {
                let text: String = col(r, "decision")?;
                Ok(ScalingRecord {
                    id: col(r, "id")?,
                    job: col(r, "job")?,
                    at: col(r, "at")?,
                    applied: col::<i64>(r, "applied")? != 0,
                    summary: col(r, "summary")?,
                    decision: serde_json::from_str(&text).map_err(|e| Error::Corrupt { what: "scaling decision".into(), detail: e.to_string() })?,
                })
            })
            .collect()
    }
}

#[cfg(test)]
impl SqlStore {
    /// The pool, for tests that inspect the database directly.
    pub(crate) fn pool_for_tests(&self) -> AnyPool {
        self.pool.clone()
    }
}

#[cfg(test)]
mod batch_tests {
    use super::*;

    /// A batch keeps each series a ring of `keep`, like one `record_metric` per sample, and
    /// leaves series it does not touch alone.
    async fn batches_keep_rings(store: &SqlStore) {
        for i in 0..5 {
            store.record_metric("untouched", "busy", MetricPoint { ts: i, value: 1.0 }, 100).await.expect("one");
        }
        let mut batch = Vec::new();
        for i in 0..10 {
            batch.push(("j".to_string(), "busy".to_string(), MetricPoint { ts: 1_000 + i, value: i as f64 }));
            batch.push(("k".to_string(), "busy".to_string(), MetricPoint { ts: 2_000 + i, value: -(i as f64) }));
        }
        // Two samples with the same time: the newer one (by insertion) is the one kept.
        batch.push(("j".to_string(), "lag".to_string(), MetricPoint { ts: 5, value: 7.0 }));
        batch.push(("j".to_string(), "lag".to_string(), MetricPoint { ts: 5, value: 8.0 }));
        store.record_metrics(&batch, 3).await.expect("batch");
        store.record_metrics(&[], 3).await.expect("an empty batch");
        let ts = |h: Vec<MetricPoint>| h.into_iter().map(|p| p.ts).collect::<Vec<_>>();
        assert_eq!(ts(store.metric_history("j", "busy").await.expect("j")), vec![1_007, 1_008, 1_009]);
        assert_eq!(ts(store.metric_history("k", "busy").await.expect("k")), vec![2_007, 2_008, 2_009]);
        assert_eq!(store.metric_history("j", "lag").await.expect("lag").len(), 2);
        assert_eq!(store.metric_history("untouched", "busy").await.expect("untouched").len(), 5);
        // A second batch goes on from the first one.
        store.record_metrics(&[("j".to_string(), "busy".to_string(), MetricPoint { ts: 1_010, value: 10.0 })], 3).await.expect("again");
        assert_eq!(ts(store.metric_history("j", "busy").await.expect("j")), vec![1_008, 1_009, 1_010]);
        store.record_metrics(&[("j".to_string(), "lag".to_string(), MetricPoint { ts: 5, value: 9.0 })], 2).await.expect("tie");
        let lag: Vec<f64> = store.metric_history("j", "lag").await.expect("lag").into_iter().map(|p| p.value).collect();
        assert_eq!(lag, vec![8.0, 9.0], "among equal times the newest samples stay");
    }

    #[tokio::test]
    async fn record_metrics_keeps_each_series_a_ring_on_sqlite() {
        let dir = tempfile::tempdir().expect("tmp");
        let store = SqlStore::open_sqlite_dir(dir.path()).await.expect("open");
        batches_keep_rings(&store).await;
    }

    #[tokio::test]
    async fn record_metrics_keeps_each_series_a_ring_on_postgres() {
        let pg = crate::testing::Postgres::start();
        install_drivers();
        let deadline = std::time::Instant::now() + std::time::Duration::from_secs(30);
        // The server accepts TCP slightly before it accepts sessions.
        loop {
            match sqlx::AnyPool::connect(&pg.url("postgres")).await {
                Ok(pool) => {
                    sqlx::raw_sql("CREATE DATABASE batches").execute(&pool).await.expect("create database");
                    pool.close().await;
                    break;
                }
                Err(e) if std::time::Instant::now() < deadline => {
                    let _ = e;
                    tokio::time::sleep(std::time::Duration::from_millis(200)).await;
                }
                Err(e) => panic!("PostgreSQL does not accept sessions: {e}\n{}", pg.log()),
            }
        }
        let store = SqlStore::open(&pg.url("batches")).await.expect("open");
        batches_keep_rings(&store).await;
        store.close().await;
    }
}

#[cfg(test)]
mod url_tests {
    use super::*;

    #[test]
    fn passwords_are_redacted_in_messages() {
        let r = redact("postgres://flinkops:s3cret@db:5432/flinkops");
        assert!(!r.contains("s3cret"), "{r}");
        assert!(r.contains("***"), "{r}");
        assert_eq!(redact("not a url"), "<unparsable URL>");
    }
}
