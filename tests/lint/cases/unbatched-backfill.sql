-- bad
UPDATE users SET timezone = 'UTC';

-- bad
ALTER TABLE users ADD COLUMN id_new uuid;
UPDATE users SET id_new = uuid_generate_v4();

-- bad
DELETE FROM sessions;

-- bad
-- runner: psql
UPDATE orders o SET customer_name = c.name FROM customers c;

-- bad
DO $$
BEGIN
  UPDATE accounts SET plan = 'free';
END $$;

-- ok
UPDATE users SET timezone = 'UTC' WHERE timezone IS NULL;

-- ok
UPDATE posts SET new_field = 'value' WHERE id BETWEEN 1 AND 10000;

-- ok
CREATE TABLE plans (id int, name text);
INSERT INTO plans VALUES (1, 'free');
UPDATE plans SET name = upper(name);

-- ok
DELETE FROM sessions WHERE expires_at < now() - interval '30 days';

-- ok
CREATE FUNCTION reset_all() RETURNS void LANGUAGE sql AS $$ UPDATE users SET score = 0 $$;

-- ok
-- pgshift:no-transaction
ALTER TABLE users ADD COLUMN plan text;
-- pgshift:backfill batch-size=1000
UPDATE users SET plan = 'free';

-- bad
-- runner: psql
-- pgshift:backfill batch-size=1000
UPDATE users SET plan = 'free';

-- bad
WITH moved AS (UPDATE users SET plan = 'free' RETURNING id) SELECT count(*) FROM moved;

-- bad
WITH gone AS (DELETE FROM sessions RETURNING *) INSERT INTO sessions_archive SELECT * FROM gone;

-- ok
WITH moved AS (UPDATE users SET plan = 'free' WHERE id = 1 RETURNING id) SELECT 1;

-- bad
UPDATE users SET timezone = 'UTC' WHERE true;

-- bad
-- runner: psql
DELETE FROM sessions WHERE 1 = 1;

-- ok
DELETE FROM sessions WHERE expires_at < now() AND true;
