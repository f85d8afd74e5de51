-- expect: set-not-null-without-check
ALTER TABLE invoices ADD COLUMN paid_on date;
UPDATE invoices SET paid_on = issued_on WHERE status = 'paid';
-- paid_on is new in this file, but issued_on is not: this one scans the whole table.
ALTER TABLE invoices ALTER COLUMN issued_on SET NOT NULL;
