-- Set a default for new rows, then backfill existing rows in batches, each in its own short
-- transaction outside the migration's (see docs/zero-downtime.md).
-- pgshift:no-transaction
ALTER TABLE users ALTER COLUMN timezone SET DEFAULT 'UTC';

-- pgshift:backfill batch-size=500
UPDATE users SET timezone = 'UTC' WHERE timezone IS NULL;

-- pgshift:down
ALTER TABLE users ALTER COLUMN timezone DROP DEFAULT;
