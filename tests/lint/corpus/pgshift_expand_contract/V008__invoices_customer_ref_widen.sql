-- expect: none
ALTER TABLE invoices ALTER COLUMN customer_ref TYPE varchar(128);
