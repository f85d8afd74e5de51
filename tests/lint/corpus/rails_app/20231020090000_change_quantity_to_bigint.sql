-- expect: alter-column-type-rewrite
-- runner: psql
BEGIN;
SET LOCAL lock_timeout = '10s';
ALTER TABLE "line_items" ALTER COLUMN "quantity" TYPE bigint;
INSERT INTO "schema_migrations" ("version") VALUES ('20231020090000') RETURNING "version";
COMMIT;
