-- expect: drop-column, missing-lock-timeout
-- runner: psql
BEGIN;
--
-- Remove field legacy_id from post
--
ALTER TABLE "blog_post" DROP COLUMN "legacy_id" CASCADE;
COMMIT;
