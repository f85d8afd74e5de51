-- expect: none
ALTER TABLE invoices
    ADD CONSTRAINT invoices_amount_cents_not_null CHECK (amount_cents IS NOT NULL) NOT VALID;
