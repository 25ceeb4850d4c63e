-- Regular join of a fast order stream with a slower customer stream on 10,000 customer ids;
-- state is bounded by the job's state TTL (a requirement of the workload, see join.yaml).
CREATE TABLE orders (o_id BIGINT, c_id INT, amount BIGINT) WITH ('connector' = 'datagen', 'rows-per-second' = '10000000', 'fields.c_id.min' = '1', 'fields.c_id.max' = '10000');
CREATE TABLE customers (c_id INT, name STRING) WITH ('connector' = 'datagen', 'rows-per-second' = '2000', 'fields.c_id.min' = '1', 'fields.c_id.max' = '10000', 'fields.name.length' = '12');
CREATE TABLE snk (o_id BIGINT, amount BIGINT, name STRING) WITH ('connector' = 'blackhole');
INSERT INTO snk SELECT o.o_id, o.amount, c.name FROM orders o JOIN customers c ON o.c_id = c.c_id;
