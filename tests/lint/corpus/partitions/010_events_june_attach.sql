-- expect: none
-- runner: psql
SET lock_timeout = '5s';
-- the validated CHECK matches the bounds: ATTACH skips the scan.
ALTER TABLE events ATTACH PARTITION events_2024_06
    FOR VALUES FROM ('2024-06-01') TO ('2024-07-01');
ALTER TABLE events_2024_06 DROP CONSTRAINT events_2024_06_bounds;
