-- expect: validate-in-same-transaction
ALTER TABLE invoices ADD CONSTRAINT invoices_amount_positive CHECK (amount_cents >= 0) NOT VALID;
ALTER TABLE invoices VALIDATE CONSTRAINT invoices_amount_positive;
