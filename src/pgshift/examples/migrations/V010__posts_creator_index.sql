-- Adding an index without blocking writes: CONCURRENTLY cannot run in a transaction.
-- pgshift:no-transaction
CREATE INDEX CONCURRENTLY IF NOT EXISTS idx_posts_creator ON posts (creator_id);

-- pgshift:down
DROP INDEX CONCURRENTLY IF EXISTS idx_posts_creator;
