-- flinkops control plane store, version 1. Portable SQL for SQLite and PostgreSQL; `{{id}}` and
-- `{{double}}` are replaced per backend. Times are epoch milliseconds.

CREATE TABLE spec_versions (
    job TEXT NOT NULL,
    version BIGINT NOT NULL,
    spec_hash TEXT NOT NULL,
    spec TEXT NOT NULL,
    created_at BIGINT NOT NULL,
    PRIMARY KEY (job, version)
);
CREATE INDEX spec_versions_hash ON spec_versions (job, spec_hash);

CREATE TABLE observed_jobs (
    job TEXT PRIMARY KEY,
    flink_job_id TEXT,
    state TEXT NOT NULL,
    phase TEXT NOT NULL,
    spec_version BIGINT,
    last_checkpoint TEXT,
    last_savepoint TEXT,
    restored_from TEXT,
    health TEXT NOT NULL,
    updated_at BIGINT NOT NULL
);

CREATE TABLE snapshots (
    id {{id}},
    path TEXT NOT NULL UNIQUE,
    kind TEXT NOT NULL,
    job TEXT NOT NULL,
    flink_job_id TEXT,
    created_at BIGINT NOT NULL,
    status TEXT NOT NULL,
    size_bytes BIGINT,
    protected BIGINT NOT NULL DEFAULT 0
);
CREATE INDEX snapshots_job ON snapshots (job, created_at);

CREATE TABLE intents (
    id {{id}},
    job TEXT NOT NULL,
    kind TEXT NOT NULL,
    exclusive BIGINT NOT NULL,
    reason TEXT NOT NULL,
    payload TEXT NOT NULL,
    state TEXT NOT NULL,
    error TEXT,
    created_at BIGINT NOT NULL,
    finished_at BIGINT
);
-- At most one pending exclusive intent per job: two conflicting commands cannot both start.
CREATE UNIQUE INDEX intents_one_pending ON intents (job) WHERE state = 'pending' AND exclusive = 1;
CREATE INDEX intents_job ON intents (job, id);

CREATE TABLE alerts (
    job TEXT NOT NULL,
    rule TEXT NOT NULL,
    status TEXT NOT NULL,
    severity TEXT NOT NULL,
    since BIGINT NOT NULL,
    last_notified_at BIGINT,
    summary TEXT NOT NULL,
    updated_at BIGINT NOT NULL,
    PRIMARY KEY (job, rule)
);

CREATE TABLE metric_history (
    id {{id}},
    job TEXT NOT NULL,
    metric TEXT NOT NULL,
    ts BIGINT NOT NULL,
    value {{double}} NOT NULL
);
CREATE INDEX metric_history_series ON metric_history (job, metric, ts);
