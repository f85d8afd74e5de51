-- expect: set-not-null-without-check
-- pg-version: 10
-- PostgreSQL 10 and 11 ignore the validated CHECK: SET NOT NULL still scans the table.
ALTER TABLE members ALTER COLUMN nickname SET NOT NULL;
