-- Deduplication: the first row of each of 1,000,000 ids (processing time).
CREATE TABLE src (id BIGINT, k INT, v BIGINT, s STRING, ts AS PROCTIME()) WITH ('connector' = 'datagen', 'rows-per-second' = '10000000', 'fields.k.min' = '1', 'fields.k.max' = '1000', 'fields.id.min' = '1', 'fields.id.max' = '1000000', 'fields.s.length' = '16');
CREATE TABLE snk (id BIGINT, k INT, v BIGINT) WITH ('connector' = 'blackhole');
INSERT INTO snk SELECT id, k, v FROM (SELECT id, k, v, ROW_NUMBER() OVER (PARTITION BY id ORDER BY ts ASC) AS rn FROM src) WHERE rn = 1;
