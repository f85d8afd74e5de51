-- expect: alter-column-type-rewrite
-- runner: psql
SET lock_timeout = '2s';
-- narrowing must check every value (and rewrites): ACCESS EXCLUSIVE for the whole pass.
ALTER TABLE inventory.warehouses ALTER COLUMN code TYPE varchar(8);
