-- expect: none
-- runner: psql
SET SESSION lock_timeout TO '3s';
ALTER TABLE orders REPLICA IDENTITY FULL;
ALTER TABLE orders OWNER TO app_owner;
DROP TRIGGER IF EXISTS orders_touch ON orders;
