-- expect: add-column-volatile-default
-- runner: psql
-- new_public_id() says nothing of its volatility, so it is VOLATILE: every row is rewritten.
SET lock_timeout = '2s';
ALTER TABLE billing.invoices ADD COLUMN public_id text DEFAULT billing.new_public_id();
