-- expect: add-column-volatile-default
ALTER TABLE users
    ADD COLUMN joined_on date NOT NULL DEFAULT now()::date,
    ADD COLUMN joined_utc timestamp DEFAULT (now() AT TIME ZONE 'utc'),
    ADD COLUMN labels text[] NOT NULL DEFAULT ARRAY[]::text[],
    ADD COLUMN tz text NOT NULL DEFAULT 'Europe' || '/Paris',
    ADD COLUMN seen_at timestamptz DEFAULT statement_timestamp(),
    -- clock_timestamp() is volatile: every row gets its own value, the table is rewritten
    ADD COLUMN touched_at timestamptz DEFAULT clock_timestamp();
