-- expect: validate-in-same-transaction
-- runner: psql
BEGIN;
SET LOCAL lock_timeout = '10s';
ALTER TABLE "line_items" ADD CONSTRAINT "quantity_positive" CHECK (quantity > 0) NOT VALID;
ALTER TABLE "line_items" VALIDATE CONSTRAINT "quantity_positive";
INSERT INTO "schema_migrations" ("version") VALUES ('20231115100000') RETURNING "version";
COMMIT;
