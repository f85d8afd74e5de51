-- expect: drop-column
-- pgshift:phase contract
DROP TRIGGER IF EXISTS invoices_sync_amount ON invoices;
DROP FUNCTION IF EXISTS invoices_sync_amount();
ALTER TABLE invoices DROP COLUMN amount;
