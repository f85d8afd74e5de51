-- expect: create-index-non-concurrent, missing-lock-timeout
-- runner: psql
-- billing.payments exists since V1.
CREATE INDEX payments_amount_idx ON billing.PAYMENTS (amount);
