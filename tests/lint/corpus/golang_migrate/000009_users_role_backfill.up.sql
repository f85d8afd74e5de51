-- expect: unbatched-backfill
-- runner: psql
UPDATE users SET role = 'member';
