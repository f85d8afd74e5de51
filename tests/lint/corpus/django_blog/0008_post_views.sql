-- expect: add-check-without-not-valid
-- runner: psql
BEGIN;
SET LOCAL lock_timeout = '5s';
--
-- Add field views to post (PositiveIntegerField)
--
-- The inline CHECK on a column added to an existing table is checked against every row:
-- a full scan under ACCESS EXCLUSIVE, like ADD CONSTRAINT ... CHECK without NOT VALID.
ALTER TABLE "blog_post" ADD COLUMN "views" integer DEFAULT 0 NOT NULL CHECK ("views" >= 0);
ALTER TABLE "blog_post" ALTER COLUMN "views" DROP DEFAULT;
COMMIT;
