-- bad
ALTER TABLE users ALTER COLUMN email SET NOT NULL;

-- bad
ALTER TABLE users ADD COLUMN timezone text;
UPDATE users SET timezone = 'UTC' WHERE timezone IS NULL;
ALTER TABLE users ALTER COLUMN timezone SET NOT NULL;

-- bad
ALTER TABLE users ALTER COLUMN status SET DEFAULT 'active';
UPDATE users SET status = 'active' WHERE status IS NULL;
ALTER TABLE users ALTER COLUMN status SET NOT NULL;
ALTER TABLE users ALTER COLUMN status DROP DEFAULT;

-- bad
ALTER TABLE users ADD CONSTRAINT users_email_not_null CHECK (email IS NOT NULL) NOT VALID;
ALTER TABLE users ALTER COLUMN email SET NOT NULL;

-- bad
-- pg-version: 11
ALTER TABLE users ADD CONSTRAINT users_email_not_null CHECK (email IS NOT NULL) NOT VALID;
ALTER TABLE users VALIDATE CONSTRAINT users_email_not_null;
ALTER TABLE users ALTER COLUMN email SET NOT NULL;

-- bad
ALTER TABLE users ADD CONSTRAINT name_nn CHECK (name IS NOT NULL) NOT VALID;
ALTER TABLE users VALIDATE CONSTRAINT name_nn;
ALTER TABLE users ALTER COLUMN email SET NOT NULL;

-- bad
-- schema: CREATE TABLE users (id bigint, email text);
-- schema: ALTER TABLE users ADD CONSTRAINT email_nn CHECK (email IS NOT NULL) NOT VALID;
ALTER TABLE users ALTER COLUMN email SET NOT NULL;

-- bad
DO $$
BEGIN
  ALTER TABLE orders ALTER COLUMN user_id SET NOT NULL;
END $$;

-- ok
-- schema: CREATE TABLE users (id bigint, email text);
-- schema: ALTER TABLE users ADD CONSTRAINT users_email_not_null CHECK (email IS NOT NULL) NOT VALID;
-- schema: ALTER TABLE users VALIDATE CONSTRAINT users_email_not_null;
ALTER TABLE users ALTER COLUMN email SET NOT NULL;
ALTER TABLE users DROP CONSTRAINT users_email_not_null;

-- ok
-- pgshift:no-transaction
ALTER TABLE users ADD CONSTRAINT users_email_not_null CHECK (email IS NOT NULL) NOT VALID;
ALTER TABLE users VALIDATE CONSTRAINT users_email_not_null;
ALTER TABLE users ALTER COLUMN email SET NOT NULL;
ALTER TABLE users DROP CONSTRAINT users_email_not_null;

-- ok
-- runner: psql
SET lock_timeout = '2s';
ALTER TABLE users ADD CONSTRAINT users_email_not_null CHECK (email IS NOT NULL) NOT VALID;
COMMIT;
ALTER TABLE users VALIDATE CONSTRAINT users_email_not_null;
ALTER TABLE users ALTER COLUMN email SET NOT NULL;

-- ok
-- schema: CREATE TABLE users (id bigint, email text, CONSTRAINT email_present CHECK (email IS NOT NULL AND email <> ''));
ALTER TABLE users ALTER COLUMN email SET NOT NULL;

-- ok
-- schema: CREATE TABLE users (id bigint, email text NOT NULL);
ALTER TABLE users ALTER COLUMN email SET NOT NULL;

-- ok
CREATE TABLE prefs (user_id bigint, theme text);
ALTER TABLE prefs ALTER COLUMN theme SET NOT NULL;

-- ok
-- pg-version: 18
ALTER TABLE users ADD CONSTRAINT users_email_nn NOT NULL email NOT VALID;
ALTER TABLE users VALIDATE CONSTRAINT users_email_nn;
ALTER TABLE users ALTER COLUMN email SET NOT NULL;

-- ok
ALTER TABLE users ALTER COLUMN email DROP NOT NULL;

-- ok
ALTER TABLE users ADD CONSTRAINT users_email_not_null CHECK (email IS NOT NULL) NOT VALID;
ALTER TABLE users VALIDATE CONSTRAINT users_email_not_null;
ALTER TABLE users ALTER COLUMN email SET NOT NULL;

-- bad
-- pg-version: 18
ALTER TABLE users ADD CONSTRAINT users_email_nn NOT NULL email;

-- ok
-- pg-version: 18
ALTER TABLE users ADD CONSTRAINT users_email_nn NOT NULL email NOT VALID;

-- ok
-- schema: CREATE TABLE users (id bigint, email text);
-- schema: ALTER TABLE users ADD CONSTRAINT email_nn CHECK (NOT (email IS NULL)) NOT VALID;
-- schema: ALTER TABLE users VALIDATE CONSTRAINT email_nn;
ALTER TABLE users ALTER COLUMN email SET NOT NULL;

-- bad
-- schema: CREATE TABLE users (id bigint, email text);
-- schema: ALTER TABLE users ADD CONSTRAINT email_present CHECK (email <> '');
ALTER TABLE users ALTER COLUMN email SET NOT NULL;

-- bad
-- schema: CREATE TABLE users (id bigint, email text);
-- schema: ALTER TABLE users ADD CONSTRAINT email_nn CHECK (NOT (email IS NOT NULL)) NOT VALID;
-- schema: ALTER TABLE users VALIDATE CONSTRAINT email_nn;
ALTER TABLE users ALTER COLUMN email SET NOT NULL;

-- bad
-- schema: CREATE TABLE accounts (id bigint, email text);
-- schema: CREATE UNIQUE INDEX CONCURRENTLY accounts_id_idx ON accounts (id);
ALTER TABLE accounts ADD CONSTRAINT accounts_pkey PRIMARY KEY USING INDEX accounts_id_idx;

-- bad
-- runner: psql
-- schema: CREATE TABLE app.accounts ("Id" bigint, region text);
CREATE UNIQUE INDEX CONCURRENTLY accounts_key ON app.accounts (region, "Id");
ALTER TABLE app.accounts ADD CONSTRAINT accounts_pkey PRIMARY KEY USING INDEX accounts_key;

-- ok
-- schema: CREATE TABLE accounts (id bigint, email text);
-- schema: CREATE UNIQUE INDEX CONCURRENTLY accounts_id_idx ON accounts (id);
-- schema: ALTER TABLE accounts ADD CONSTRAINT accounts_id_nn CHECK (id IS NOT NULL) NOT VALID;
-- schema: ALTER TABLE accounts VALIDATE CONSTRAINT accounts_id_nn;
ALTER TABLE accounts ADD CONSTRAINT accounts_pkey PRIMARY KEY USING INDEX accounts_id_idx;
ALTER TABLE accounts DROP CONSTRAINT accounts_id_nn;

-- ok
-- schema: CREATE TABLE accounts (id bigint NOT NULL, email text);
-- schema: CREATE UNIQUE INDEX CONCURRENTLY accounts_id_idx ON accounts (id);
ALTER TABLE accounts ADD CONSTRAINT accounts_pkey PRIMARY KEY USING INDEX accounts_id_idx;

-- ok
ALTER TABLE accounts ADD CONSTRAINT accounts_pkey PRIMARY KEY USING INDEX accounts_id_idx;

-- ok
-- schema: CREATE TABLE accounts (id bigint, email text);
-- schema: CREATE UNIQUE INDEX CONCURRENTLY accounts_email_idx ON accounts (email);
ALTER TABLE accounts ADD CONSTRAINT accounts_email_key UNIQUE USING INDEX accounts_email_idx;
