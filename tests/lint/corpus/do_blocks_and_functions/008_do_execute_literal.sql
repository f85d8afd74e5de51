-- expect: drop-column, missing-lock-timeout
-- runner: psql
DO $$
BEGIN
    EXECUTE 'ALTER TABLE accounts DROP COLUMN IF EXISTS closed_at';
END
$$;
