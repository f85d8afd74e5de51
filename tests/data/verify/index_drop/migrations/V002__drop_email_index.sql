-- pgshift:no-transaction
DROP INDEX CONCURRENTLY IF EXISTS users_email_idx;

-- pgshift:down
CREATE INDEX CONCURRENTLY IF NOT EXISTS users_email_idx ON users (email);
