-- expect: none
-- The CHECK was validated by V005: PostgreSQL 12+ skips the scan of SET NOT NULL.
ALTER TABLE invoices ALTER COLUMN amount_cents SET NOT NULL;
ALTER TABLE invoices DROP CONSTRAINT invoices_amount_cents_not_null;
