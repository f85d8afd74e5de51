-- expect: none
-- runner: psql
BEGIN;
SET LOCAL lock_timeout = '10s';
ALTER TABLE "line_items" ADD "sku" character varying;
ALTER TABLE "line_items" ADD "discount_cents" integer DEFAULT 0 NOT NULL;
INSERT INTO "schema_migrations" ("version") VALUES ('20230915120000') RETURNING "version";
COMMIT;
