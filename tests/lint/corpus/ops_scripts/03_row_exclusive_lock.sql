-- expect: none
-- runner: psql
BEGIN;
-- ROW EXCLUSIVE is what every UPDATE takes anyway: nothing blocked.
LOCK TABLE ledger_entries IN ROW EXCLUSIVE MODE;
UPDATE ledger_entries SET reconciled = true WHERE batch_id = 42;
COMMIT;
