-- expect: none
ALTER TABLE invoices VALIDATE CONSTRAINT invoices_amount_cents_not_null;
