-- expect: none
-- runner: psql
BEGIN;
SET LOCAL lock_timeout = '10s';
ALTER TABLE "line_items" ADD CONSTRAINT "fk_rails_2c2c8a1f5e"
FOREIGN KEY ("product_id")
  REFERENCES "products" ("id")
 NOT VALID;
INSERT INTO "schema_migrations" ("version") VALUES ('20231010140000') RETURNING "version";
COMMIT;
BEGIN;
SET LOCAL lock_timeout = '10s';
ALTER TABLE "line_items" VALIDATE CONSTRAINT "fk_rails_2c2c8a1f5e";
COMMIT;
