-- expect: none
-- runner: psql
CREATE TABLE IF NOT EXISTS accounts (
    id bigint PRIMARY KEY,
    balance numeric(14,2) NOT NULL DEFAULT 0,
    status text NOT NULL DEFAULT 'active',
    closed_at timestamptz
);
CREATE TABLE IF NOT EXISTS transfers (
    id bigint PRIMARY KEY,
    from_id bigint NOT NULL,
    to_id bigint NOT NULL,
    amount numeric(14,2) NOT NULL
);
