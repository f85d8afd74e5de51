-- bad
-- pgshift:no-transaction
CREATE UNIQUE INDEX CONCURRENTLY users_email_key ON users (email);

-- bad
ALTER TABLE users ADD CONSTRAINT users_email_key UNIQUE (email);

-- ok
CREATE INDEX users_email_idx ON users (email);

-- ok
CREATE TABLE handles (handle text);
CREATE UNIQUE INDEX handles_handle_key ON handles (handle);
