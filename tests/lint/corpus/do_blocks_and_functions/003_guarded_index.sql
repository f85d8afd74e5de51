-- expect: create-index-non-concurrent, missing-lock-timeout
-- runner: psql
-- The DDL in a DO block runs now: this builds a blocking index on an existing table.
DO $$
BEGIN
    IF NOT EXISTS (SELECT 1 FROM pg_indexes WHERE indexname = 'transfers_from_id_idx') THEN
        CREATE INDEX transfers_from_id_idx ON transfers (from_id);
    END IF;
END
$$;
