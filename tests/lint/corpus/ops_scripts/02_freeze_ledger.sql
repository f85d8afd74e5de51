-- expect: lock-table-explicit
-- runner: psql
BEGIN;
SET LOCAL lock_timeout = '1s';
LOCK TABLE ledger_entries IN SHARE MODE;
INSERT INTO ledger_snapshots (taken_at, total)
SELECT now(), sum(amount) FROM ledger_entries;
COMMIT;
