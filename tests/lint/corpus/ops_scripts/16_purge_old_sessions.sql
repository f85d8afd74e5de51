-- expect: none
-- runner: psql
DELETE FROM sessions WHERE last_seen < now() - interval '90 days';
