-- expect: none
-- runner: psql
SET lock_timeout = '3s';

-- Constant and now() defaults are metadata-only from PostgreSQL 11.
ALTER TABLE shop.orders
    ADD COLUMN currency char(3) NOT NULL DEFAULT 'EUR',
    ADD COLUMN notes text,
    ADD COLUMN placed_at timestamptz DEFAULT now(),
    ADD COLUMN tags text[] NOT NULL DEFAULT '{}',
    ADD COLUMN attrs jsonb NOT NULL DEFAULT '{}'::jsonb;
