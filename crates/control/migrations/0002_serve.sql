-- flinkops control plane store, version 2: what `flinkops serve` needs beyond version 1.
-- Times are epoch milliseconds.

-- Per-job durable settings and requests (suspended, pinned version, requested restore, the
-- recovery circuit breaker and backoff): one JSON value per key, so a restart continues.
CREATE TABLE job_meta (
    job TEXT NOT NULL,
    meta_key TEXT NOT NULL,
    value TEXT NOT NULL,
    updated_at BIGINT NOT NULL,
    PRIMARY KEY (job, meta_key)
);

-- The result of every notification sent to a channel.
CREATE TABLE deliveries (
    id {{id}},
    job TEXT NOT NULL,
    rule TEXT NOT NULL,
    channel TEXT NOT NULL,
    kind TEXT NOT NULL,
    status TEXT NOT NULL,
    ok BIGINT NOT NULL,
    error TEXT,
    attempts BIGINT NOT NULL,
    at BIGINT NOT NULL
);
CREATE INDEX deliveries_at ON deliveries (at);
CREATE INDEX deliveries_job ON deliveries (job, at);

-- Autoscaler decisions (the whole computation as JSON).
CREATE TABLE scaling_decisions (
    id {{id}},
    job TEXT NOT NULL,
    at BIGINT NOT NULL,
    applied BIGINT NOT NULL,
    summary TEXT NOT NULL,
    decision TEXT NOT NULL
);
CREATE INDEX scaling_decisions_job ON scaling_decisions (job, at);
