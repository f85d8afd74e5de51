-- expect: create-index-non-concurrent
-- runner: psql
SET lock_timeout = '2s';
-- "Payments" (quoted, capitalised) is a different table from payments; this file creates
-- it, but the index below is on the existing billing."Invoice".
CREATE TABLE billing."Payments" (id bigint);
CREATE INDEX "Payments_id_idx" ON billing."Payments" (id);
CREATE INDEX invoice_total_idx ON billing."Invoice" ("Total");
