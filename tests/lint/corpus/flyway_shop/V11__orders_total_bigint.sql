-- expect: alter-column-type-rewrite, missing-lock-timeout
-- runner: psql
ALTER TABLE shop.orders ALTER COLUMN total_cents TYPE bigint;
