-- expect: none
-- runner: psql
SET search_path TO billing;
CREATE TABLE refunds (id bigint PRIMARY KEY, payment_id bigint NOT NULL, amount numeric(12,2));
-- refunds is billing.refunds, created just above
CREATE INDEX refunds_payment_id_idx ON billing.refunds (payment_id);
ALTER TABLE billing.refunds ADD CONSTRAINT refunds_amount_positive CHECK (amount > 0);
