-- expect: none
-- runner: psql
SET lock_timeout = '2s';
SET search_path = billing;
-- "Invoice"."CustomerName" is varchar(80) (V1): widening is free.
ALTER TABLE "Invoice" ALTER COLUMN "CustomerName" TYPE varchar(160);
