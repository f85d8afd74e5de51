-- expect: missing-lock-timeout
-- runner: psql
ALTER TABLE orders REPLICA IDENTITY FULL;
