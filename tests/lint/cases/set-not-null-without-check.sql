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
