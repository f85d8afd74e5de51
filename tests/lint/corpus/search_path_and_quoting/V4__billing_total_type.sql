-- expect: none
-- runner: psql
SET lock_timeout = '2s';
-- numeric(12,2) -> numeric(18,2): same scale, more precision, no rewrite.
ALTER TABLE billing."Invoice" ALTER COLUMN "Total" TYPE numeric(18,2);
