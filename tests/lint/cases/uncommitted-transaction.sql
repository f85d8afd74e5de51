-- bad
-- runner: psql
BEGIN;
ALTER TABLE users ADD COLUMN a int;

-- bad
-- runner: psql
BEGIN;
ALTER TABLE users ADD COLUMN a int;
COMMIT;
START TRANSACTION;
UPDATE users SET a = 1 WHERE id = 1;

-- ok
-- runner: psql
BEGIN;
ALTER TABLE users ADD COLUMN a int;
COMMIT;

-- ok
-- runner: psql
BEGIN;
ALTER TABLE users ADD COLUMN a int;
ROLLBACK;

-- ok
ALTER TABLE users ADD COLUMN a int;
