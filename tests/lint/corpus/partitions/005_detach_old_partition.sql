-- expect: detach-partition-non-concurrent, drop-table
-- runner: psql
SET lock_timeout = '2s';
ALTER TABLE events DETACH PARTITION events_2024_01;
DROP TABLE events_2024_01;
