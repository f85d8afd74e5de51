-- expect: concurrently-in-transaction
-- no '-- pgshift:no-transaction': pgshift wraps the file in a transaction and CIC fails.
CREATE INDEX CONCURRENTLY invoices_issued_on_idx ON invoices (issued_on);
