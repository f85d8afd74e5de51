-- expect: missing-lock-timeout
-- runner: psql
-- DISABLE TRIGGER takes SHARE ROW EXCLUSIVE: writes queue behind it while it waits.
ALTER TABLE orders DISABLE TRIGGER USER;
UPDATE orders SET status = 'archived' WHERE created_at < '2020-01-01';
ALTER TABLE orders ENABLE TRIGGER USER;
