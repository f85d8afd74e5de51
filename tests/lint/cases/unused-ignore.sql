-- bad
-- select: default
-- pgshift:ignore drop-column -- the app stopped using it in 2.4
ALTER TABLE users ADD COLUMN a int;

-- bad
-- select: default
-- pgshift:ignore no-such-rule
ALTER TABLE users DROP COLUMN a;

-- bad
-- select: default
ALTER TABLE users ADD COLUMN a int;
-- pgshift:ignore create-index-non-concurrent

-- bad
-- select: default
-- pgshift:ignore
ALTER TABLE users ADD COLUMN a int;

-- ok
-- select: default
-- pgshift:ignore drop-column -- the app stopped using it in 2.4
ALTER TABLE users DROP COLUMN old_column;

-- ok
-- select: default
-- runner: psql
-- pgshift:ignore create-index-non-concurrent, missing-lock-timeout -- tiny lookup table
CREATE INDEX countries_name ON countries (name);

-- ok
-- select: default
-- pgshift:ignore drop-column -- deprecated
DO $$ BEGIN ALTER TABLE users DROP COLUMN legacy; END $$;

-- ok
-- select: unused-ignore
-- pgshift:ignore drop-column -- drop-column is not selected in this run
ALTER TABLE users ADD COLUMN a int;

-- ok
-- select: default
DO $$
BEGIN
  -- pgshift:ignore drop-column -- the app stopped using it
  ALTER TABLE users DROP COLUMN legacy;
END $$;
