-- pgshift:no-transaction
ALTER TABLE users ADD COLUMN last_login timestamptz;
CREATE INDEX CONCURRENTLY users_last_login_idx ON users (last_login);
CREATE INDEX CONCURRENTLY users_email_idx ON users (email);

-- pgshift:down
-- Fault: forgets users_email_idx (the last_login index goes with its column).
ALTER TABLE users DROP COLUMN last_login;
