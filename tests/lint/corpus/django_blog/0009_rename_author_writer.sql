-- expect: rename-table, missing-lock-timeout
-- runner: psql
BEGIN;
--
-- Rename model Author to Writer
--
ALTER TABLE "blog_author" RENAME TO "blog_writer";
COMMIT;
