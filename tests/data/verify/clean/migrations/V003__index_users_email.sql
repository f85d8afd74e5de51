-- pgshift:no-transaction
CREATE INDEX CONCURRENTLY users_email_idx ON users (email);

-- pgshift:down
DROP INDEX CONCURRENTLY IF EXISTS users_email_idx;
