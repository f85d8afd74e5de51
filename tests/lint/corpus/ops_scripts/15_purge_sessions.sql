-- expect: unbatched-backfill
-- runner: psql
DELETE FROM sessions;
