-- expect: none
-- runner: psql
CREATE OR REPLACE VIEW shop.order_totals AS
SELECT customer_id, count(*) AS orders, sum(total_cents) AS total_cents
FROM shop.orders
GROUP BY customer_id;

GRANT SELECT ON shop.order_totals TO reporting;
