-- Stateless projection and filter: source, calc and sink chain into one task.
CREATE TABLE src (id BIGINT, k INT, v BIGINT, s STRING, ts AS PROCTIME()) WITH ('connector' = 'datagen', 'rows-per-second' = '10000000', 'fields.k.min' = '1', 'fields.k.max' = '1000', 'fields.id.min' = '1', 'fields.id.max' = '1000000', 'fields.s.length' = '16');
CREATE TABLE snk (k INT, v2 BIGINT, u STRING) WITH ('connector' = 'blackhole');
INSERT INTO snk SELECT k, v * 2, UPPER(s) FROM src WHERE v % 10 <> 0;
