-- expect: alter-column-type-rewrite
-- runner: psql
SET lock_timeout = '2s';
ALTER TABLE inventory.stock ALTER COLUMN sku TYPE varchar(64);
