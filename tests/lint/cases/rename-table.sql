-- bad
ALTER TABLE users RENAME TO accounts;

-- bad
-- runner: psql
ALTER TABLE users RENAME TO accounts;
CREATE VIEW users AS SELECT * FROM accounts;

-- bad
ALTER TABLE users RENAME TO accounts;
CREATE VIEW accounts_v AS SELECT * FROM accounts;

-- bad
ALTER TABLE IF EXISTS billing.invoices RENAME TO bills;

-- ok
ALTER TABLE users RENAME TO accounts;
CREATE VIEW users AS SELECT * FROM accounts;

-- ok
-- runner: psql
BEGIN;
ALTER TABLE users RENAME TO accounts;
CREATE OR REPLACE VIEW users AS SELECT * FROM accounts;
COMMIT;

-- ok
CREATE TABLE users_new (id bigint);
ALTER TABLE users_new RENAME TO people;

-- ok
ALTER TABLE users RENAME COLUMN a TO b;

-- ok
CREATE TABLE events_new (LIKE events INCLUDING ALL);
ALTER TABLE events RENAME TO events_old;
ALTER TABLE events_new RENAME TO events;

-- bad
-- runner: psql
CREATE TABLE events_new (LIKE events INCLUDING ALL);
ALTER TABLE events RENAME TO events_old;
ALTER TABLE events_new RENAME TO events;
