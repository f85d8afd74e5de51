-- bad
ALTER TABLE users ADD CONSTRAINT users_email_key UNIQUE (email);

-- bad
ALTER TABLE users ADD UNIQUE (tenant_id, username);

-- bad
ALTER TABLE users ADD COLUMN external_id text UNIQUE;

-- ok
-- pgshift:no-transaction
CREATE UNIQUE INDEX CONCURRENTLY IF NOT EXISTS users_email_idx ON users (email);
ALTER TABLE users ADD CONSTRAINT users_email_key UNIQUE USING INDEX users_email_idx;

-- ok
CREATE TABLE slugs (slug text);
ALTER TABLE slugs ADD CONSTRAINT slugs_slug_key UNIQUE (slug);

-- ok
CREATE TABLE handles (handle text UNIQUE, owner bigint, UNIQUE (owner, handle));
