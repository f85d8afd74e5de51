-- bad
-- runner: psql
BEGIN;
BEGIN;
ALTER TABLE users ADD COLUMN a int;
COMMIT;

-- bad
-- runner: psql
ALTER TABLE users ADD COLUMN a int;
COMMIT;

-- bad
BEGIN;
ALTER TABLE users ADD COLUMN a int;
COMMIT;

-- bad
-- runner: psql
BEGIN;
COMMIT;
ROLLBACK;

-- ok
-- runner: psql
BEGIN;
ALTER TABLE users ADD COLUMN a int;
COMMIT;
BEGIN;
ALTER TABLE users ADD COLUMN b int;
COMMIT;

-- ok
-- pgshift:no-transaction
BEGIN;
ALTER TABLE users ADD COLUMN a int;
COMMIT;

-- ok
ALTER TABLE users ADD COLUMN a int;
SAVEPOINT before_b;
ALTER TABLE users ADD COLUMN b int;
RELEASE SAVEPOINT before_b;
