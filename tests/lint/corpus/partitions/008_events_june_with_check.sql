-- expect: none
-- runner: psql
SET lock_timeout = '5s';
CREATE TABLE events_2024_06 (LIKE events INCLUDING DEFAULTS INCLUDING CONSTRAINTS);
INSERT INTO events_2024_06 (occurred_at, kind)
SELECT occurred_at, kind FROM events_archive WHERE occurred_at >= '2024-06-01' AND occurred_at < '2024-07-01';
