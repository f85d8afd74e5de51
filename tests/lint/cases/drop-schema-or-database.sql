-- bad
DROP SCHEMA legacy CASCADE;

-- bad
-- runner: psql
DROP DATABASE old_reports;

-- bad
DROP SCHEMA IF EXISTS analytics;

-- ok
CREATE SCHEMA scratch;
DROP SCHEMA scratch;

-- ok
DROP TABLE IF EXISTS tmp_x;
