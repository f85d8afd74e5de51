-- expect: drop-not-null
-- runner: psql
BEGIN;
SET LOCAL lock_timeout = '5s';
--
-- Alter field author on post
--
ALTER TABLE "blog_post" ALTER COLUMN "author_id" DROP NOT NULL;
COMMIT;
