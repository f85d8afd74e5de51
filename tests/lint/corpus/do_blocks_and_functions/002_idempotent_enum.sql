-- expect: none
-- runner: psql
DO $$
BEGIN
    IF NOT EXISTS (SELECT 1 FROM pg_type WHERE typname = 'account_kind') THEN
        CREATE TYPE account_kind AS ENUM ('personal', 'business');
    END IF;
END
$$;
