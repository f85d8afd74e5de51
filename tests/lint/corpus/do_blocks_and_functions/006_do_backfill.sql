-- expect: unbatched-backfill
-- runner: psql
DO $$
BEGIN
    UPDATE accounts SET status = lower(status);
END
$$;
