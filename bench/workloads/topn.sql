-- Top-3 values per key over 1,000 keys.
CREATE TABLE src (id BIGINT, k INT, v BIGINT, s STRING, ts AS PROCTIME()) WITH ('connector' = 'datagen', 'rows-per-second' = '10000000', 'fields.k.min' = '1', 'fields.k.max' = '1000', 'fields.id.min' = '1', 'fields.id.max' = '1000000', 'fields.s.length' = '16');
CREATE TABLE snk (k INT, v BIGINT, rn BIGINT, PRIMARY KEY (k, rn) NOT ENFORCED) WITH ('connector' = 'blackhole');
INSERT INTO snk SELECT k, v, rn FROM (SELECT k, v, ROW_NUMBER() OVER (PARTITION BY k ORDER BY v DESC) AS rn FROM src) WHERE rn <= 3;
