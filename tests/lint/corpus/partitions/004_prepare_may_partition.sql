-- expect: none
-- runner: psql
SET lock_timeout = '5s';
CREATE TABLE events_2024_05 (LIKE events INCLUDING DEFAULTS INCLUDING CONSTRAINTS);
-- new and empty: attaching it scans nothing
ALTER TABLE events ATTACH PARTITION events_2024_05
    FOR VALUES FROM ('2024-05-01') TO ('2024-06-01');
