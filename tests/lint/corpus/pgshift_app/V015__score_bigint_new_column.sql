-- expect: alter-column-type-rewrite
ALTER TABLE users ADD COLUMN rank integer;
-- rank is new in this file, but integer -> bigint is not binary-coercible: PostgreSQL
-- rewrites every row of users (an existing table) under ACCESS EXCLUSIVE all the same.
ALTER TABLE users ALTER COLUMN rank TYPE bigint;
