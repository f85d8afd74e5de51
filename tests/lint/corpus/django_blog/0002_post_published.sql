-- expect: missing-lock-timeout
-- runner: psql
BEGIN;
--
-- Add field published to post
--
ALTER TABLE "blog_post" ADD COLUMN "published" boolean DEFAULT false NOT NULL;
ALTER TABLE "blog_post" ALTER COLUMN "published" DROP DEFAULT;
COMMIT;
