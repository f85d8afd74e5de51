-- expect: none
-- pgshift:no-transaction
CREATE UNIQUE INDEX CONCURRENTLY IF NOT EXISTS invoices_number_key ON invoices (id, customer_ref);
