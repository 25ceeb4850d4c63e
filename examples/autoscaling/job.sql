-- A streaming job whose stateful operator is the bottleneck at parallelism 1 (flinkops
-- autoscaler example and integration test). datagen emits 'rows-per-second' rows over many keys;
-- the GroupAggregate keeps the last value per key and hashes it (SHA-512, repeated) for every
-- update it emits; that work runs chained behind the aggregation, after the keyed exchange, so
-- only the aggregate vertex is busy. Tune 'rows-per-second' to about 1.5× what one aggregate
-- subtask handles on the machine (see README.md); 6000/s overloads one subtask here by ≥ 2× even on an idle machine.
SET 'pipeline.name' = 'autoscaling-demo';
CREATE TABLE src (
  k BIGINT,
  v STRING
) WITH (
  'connector' = 'datagen',
  'rows-per-second' = '6000',
  'fields.k.min' = '1',
  'fields.k.max' = '10000',
  'fields.v.length' = '32'
);
CREATE TABLE snk (
  k BIGINT,
  h STRING,
  PRIMARY KEY (k) NOT ENFORCED
) WITH ('connector' = 'blackhole');
INSERT INTO snk
SELECT k, SHA512(REPEAT(SHA512(REPEAT(v, 40)), 1000))
FROM (SELECT k, LAST_VALUE(v) AS v FROM src GROUP BY k);
