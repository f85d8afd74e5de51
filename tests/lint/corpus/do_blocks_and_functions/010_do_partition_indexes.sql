-- expect: create-index-non-concurrent, missing-lock-timeout
-- runner: psql
-- known-miss: dynamic SQL (EXECUTE format(...)) is not guessed, by design (tests/unit/test_lint_engine.py)
-- The statement is built at run time, but its shape is fixed: a plain CREATE INDEX on each
-- existing partition.
DO $$
DECLARE
    part record;
BEGIN
    FOR part IN SELECT inhrelid::regclass AS rel FROM pg_inherits
                WHERE inhparent = 'transfers'::regclass LOOP
        EXECUTE format('CREATE INDEX IF NOT EXISTS %I ON %s (to_id)',
                       part.rel || '_to_id_idx', part.rel);
    END LOOP;
END
$$;
