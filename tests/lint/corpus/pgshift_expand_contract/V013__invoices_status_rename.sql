-- expect: rename-column
ALTER TABLE invoices RENAME COLUMN status TO state;
