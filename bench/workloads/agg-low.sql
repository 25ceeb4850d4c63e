-- Unbounded group aggregation over 100 keys (low cardinality).
CREATE TABLE src (id BIGINT, k INT, v BIGINT, s STRING, ts AS PROCTIME()) WITH ('connector' = 'datagen', 'rows-per-second' = '10000000', 'fields.k.min' = '1', 'fields.k.max' = '100', 'fields.id.min' = '1', 'fields.id.max' = '1000000', 'fields.s.length' = '16');
CREATE TABLE snk (k INT, c BIGINT, t BIGINT, m BIGINT, PRIMARY KEY (k) NOT ENFORCED) WITH ('connector' = 'blackhole');
INSERT INTO snk SELECT k, COUNT(*), SUM(v), MAX(v) FROM src GROUP BY k;
