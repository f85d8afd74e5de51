-- expect: create-index-non-concurrent, missing-lock-timeout
-- runner: psql
CREATE INDEX IF NOT EXISTS "posts_title_idx" ON "posts" USING btree ("title");
