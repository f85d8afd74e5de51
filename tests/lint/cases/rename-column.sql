-- bad
ALTER TABLE users RENAME COLUMN name TO full_name;

-- bad
ALTER TABLE IF EXISTS public.orders RENAME total TO total_amount;

-- bad
-- runner: psql
BEGIN;
ALTER TABLE users RENAME COLUMN name TO full_name;
CREATE VIEW users_v AS SELECT * FROM users;
COMMIT;

-- ok
CREATE TABLE staging (a int);
ALTER TABLE staging RENAME COLUMN a TO b;

-- ok
ALTER TABLE users ADD COLUMN display_name varchar(100);
UPDATE users SET display_name = old_name WHERE display_name IS NULL;

-- ok
ALTER TABLE users RENAME CONSTRAINT users_check TO users_age_check;

-- ok
ALTER INDEX users_email_idx RENAME TO users_email_key;
