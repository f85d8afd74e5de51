-- expect: none
-- runner: psql
SET lock_timeout = '5s';
ALTER TABLE events_2024_06 ADD CONSTRAINT events_2024_06_bounds
    CHECK (occurred_at >= '2024-06-01' AND occurred_at < '2024-07-01') NOT VALID;
ALTER TABLE events_2024_06 VALIDATE CONSTRAINT events_2024_06_bounds;
