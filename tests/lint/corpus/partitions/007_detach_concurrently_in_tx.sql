-- expect: concurrently-in-transaction
-- runner: psql
BEGIN;
ALTER TABLE events DETACH PARTITION events_2024_04 CONCURRENTLY;
COMMIT;
