-- expect: none
-- runner: psql
-- SQL inside function bodies runs only when the function is called, not now.
CREATE OR REPLACE FUNCTION close_dormant_accounts() RETURNS void
LANGUAGE plpgsql AS $$
BEGIN
    UPDATE accounts SET status = 'closed', closed_at = now();
    DELETE FROM transfers;
    EXECUTE 'CREATE INDEX IF NOT EXISTS accounts_status_idx ON accounts (status)';
END
$$;

CREATE OR REPLACE FUNCTION total_balance() RETURNS numeric
LANGUAGE sql STABLE
BEGIN ATOMIC
    SELECT sum(balance) FROM accounts;
END;

CREATE PROCEDURE archive_transfers()
LANGUAGE sql
AS $proc$
    TRUNCATE transfers CASCADE;
$proc$;

-- 'ALTER TABLE accounts DROP COLUMN balance' in a string does nothing either.
SELECT 'ALTER TABLE accounts DROP COLUMN balance' AS note;
/* DROP TABLE accounts; -- commented out */
