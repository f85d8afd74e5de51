-- expect: none
-- pgshift:no-transaction
-- ADD VALUE changes only the catalog; no table is locked or scanned.
ALTER TYPE ticket_state ADD VALUE IF NOT EXISTS 'on_hold' AFTER 'pending';
