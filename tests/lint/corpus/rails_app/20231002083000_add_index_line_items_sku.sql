-- expect: none
-- runner: psql
-- disable_ddl_transaction! + algorithm: :concurrently
CREATE INDEX CONCURRENTLY "index_line_items_on_sku" ON "line_items" ("sku");
INSERT INTO "schema_migrations" ("version") VALUES ('20231002083000') RETURNING "version";
