-- expect: add-unique-constraint-without-index, create-index-non-concurrent, drop-index-non-concurrent, missing-lock-timeout
-- runner: psql
BEGIN;
--
-- Alter field slug on post
--
DROP INDEX IF EXISTS "blog_post_slug_b95473f2_like";
DROP INDEX IF EXISTS "blog_post_slug_b95473f2";
ALTER TABLE "blog_post" ADD CONSTRAINT "blog_post_slug_b95473f2_uniq" UNIQUE ("slug");
CREATE INDEX "blog_post_slug_b95473f2_like" ON "blog_post" ("slug" varchar_pattern_ops);
COMMIT;
