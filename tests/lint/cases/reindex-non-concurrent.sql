-- bad
REINDEX INDEX users_email_idx;

-- bad
REINDEX TABLE orders;

-- bad
-- runner: psql
REINDEX SCHEMA public;

-- bad
-- pg-version: 11
REINDEX TABLE orders;

-- ok
-- pgshift:no-transaction
REINDEX INDEX CONCURRENTLY users_email_idx;

-- ok
-- pgshift:no-transaction
REINDEX (CONCURRENTLY, VERBOSE) TABLE orders;

-- ok
CREATE TABLE imports (id bigint, batch text);
CREATE INDEX imports_batch_idx ON imports (batch);
REINDEX TABLE imports;

-- bad
-- pg-version: 11
-- pgshift:no-transaction
REINDEX INDEX CONCURRENTLY users_email_idx;
