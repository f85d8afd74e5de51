-- expect: missing-lock-timeout
-- runner: psql
DROP TRIGGER IF EXISTS orders_touch ON orders;
