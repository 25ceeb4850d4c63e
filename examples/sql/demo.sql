-- flinkops demo: a checkpointed streaming aggregation.
-- datagen (1,000 orders/s) -> per-customer running totals (keyed state) -> blackhole sink.
SET 'pipeline.name' = 'flinkops-demo';
SET 'execution.checkpointing.interval' = '5 s';

CREATE TABLE orders (
  order_id BIGINT,
  customer_id INT,
  amount DOUBLE,
  ts AS LOCALTIMESTAMP
) WITH (
  'connector' = 'datagen',
  'rows-per-second' = '1000',
  'fields.customer_id.min' = '1',
  'fields.customer_id.max' = '1000',
  'fields.amount.min' = '1',
  'fields.amount.max' = '500'
);

CREATE TABLE customer_totals (
  customer_id INT,
  orders BIGINT,
  revenue DOUBLE,
  PRIMARY KEY (customer_id) NOT ENFORCED
) WITH ('connector' = 'blackhole');

INSERT INTO customer_totals
SELECT customer_id, COUNT(*) AS orders, SUM(amount) AS revenue
FROM orders
GROUP BY customer_id;
