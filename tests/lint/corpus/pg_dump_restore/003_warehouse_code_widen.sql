-- expect: none
-- runner: psql
SET lock_timeout = '2s';
-- character varying(16) -> (32): binary-coercible, the unique index is kept as is.
ALTER TABLE inventory.warehouses ALTER COLUMN code TYPE character varying(32);
