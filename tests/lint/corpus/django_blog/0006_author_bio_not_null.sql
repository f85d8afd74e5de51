-- expect: set-not-null-without-check, missing-lock-timeout
-- runner: psql
BEGIN;
--
-- Alter field bio on author
--
ALTER TABLE "blog_author" ALTER COLUMN "bio" SET DEFAULT '';
UPDATE "blog_author" SET "bio" = '' WHERE "bio" IS NULL;
ALTER TABLE "blog_author" ALTER COLUMN "bio" SET NOT NULL;
ALTER TABLE "blog_author" ALTER COLUMN "bio" DROP DEFAULT;
COMMIT;
