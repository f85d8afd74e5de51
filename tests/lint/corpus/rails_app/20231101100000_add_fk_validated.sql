-- expect: add-foreign-key-without-not-valid
-- runner: psql
BEGIN;
SET LOCAL lock_timeout = '10s';
ALTER TABLE "line_items" ADD CONSTRAINT "fk_rails_7d1a4b2c3e"
FOREIGN KEY ("sku")
  REFERENCES "products" ("sku")
;
INSERT INTO "schema_migrations" ("version") VALUES ('20231101100000') RETURNING "version";
COMMIT;
