-- expect: none
-- runner: psql
UPDATE shop.orders o
SET currency = 'USD'
FROM shop.customers c
WHERE c.id = o.customer_id
  AND c.country = 'US';
