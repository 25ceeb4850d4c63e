-- Sliding (hopping) window aggregation (5 s every 1 s, processing time) over 10,000 keys.
CREATE TABLE src (id BIGINT, k INT, v BIGINT, s STRING, ts AS PROCTIME()) WITH ('connector' = 'datagen', 'rows-per-second' = '10000000', 'fields.k.min' = '1', 'fields.k.max' = '10000', 'fields.id.min' = '1', 'fields.id.max' = '1000000', 'fields.s.length' = '16');
CREATE TABLE snk (k INT, ws TIMESTAMP(3), c BIGINT, t BIGINT) WITH ('connector' = 'blackhole');
INSERT INTO snk SELECT k, window_start, COUNT(*), SUM(v) FROM TABLE(HOP(TABLE src, DESCRIPTOR(ts), INTERVAL '1' SECOND, INTERVAL '5' SECOND)) GROUP BY k, window_start, window_end;
