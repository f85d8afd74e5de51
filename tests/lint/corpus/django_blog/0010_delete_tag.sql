-- expect: drop-table, missing-lock-timeout
-- runner: psql
BEGIN;
--
-- Delete model Tag
--
DROP TABLE "blog_tag" CASCADE;
COMMIT;
