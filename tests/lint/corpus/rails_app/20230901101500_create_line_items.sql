-- expect: missing-lock-timeout
-- runner: psql
-- rails db:migrate, captured SQL (Rails wraps each migration in a transaction)
BEGIN;
CREATE TABLE "line_items" ("id" bigserial primary key, "order_id" bigint NOT NULL, "product_id" bigint NOT NULL, "quantity" integer DEFAULT 1 NOT NULL, "created_at" timestamp(6) NOT NULL, "updated_at" timestamp(6) NOT NULL, CONSTRAINT "fk_rails_11e15d5c6b"
FOREIGN KEY ("order_id")
  REFERENCES "orders" ("id")
);
CREATE INDEX "index_line_items_on_order_id" ON "line_items" ("order_id");
CREATE INDEX "index_line_items_on_product_id" ON "line_items" ("product_id");
INSERT INTO "schema_migrations" ("version") VALUES ('20230901101500') RETURNING "version";
COMMIT;
