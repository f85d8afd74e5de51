-- expect: none
-- pgshift:no-transaction
-- pgshift:backfill batch-size=5000
UPDATE invoices SET amount_cents = amount::bigint * 100 WHERE amount_cents IS NULL;
