-- expect: none
-- runner: psql
-- Flyway baseline: everything here is new, so indexes and constraints are free.
CREATE SCHEMA IF NOT EXISTS shop;

CREATE TABLE shop.customers (
    id          bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    email       varchar(255) NOT NULL,
    full_name   varchar(100),
    country     char(2),
    fax         varchar(40),
    created_at  timestamptz NOT NULL DEFAULT now()
);

CREATE TABLE shop.orders (
    id           bigserial PRIMARY KEY,
    customer_id  bigint NOT NULL REFERENCES shop.customers (id),
    status       text NOT NULL DEFAULT 'new',
    total_cents  integer NOT NULL CHECK (total_cents >= 0)
);

CREATE UNIQUE INDEX customers_email_key ON shop.customers (email);
CREATE INDEX orders_customer_id_idx ON shop.orders (customer_id);
ALTER TABLE shop.orders ADD CONSTRAINT orders_status_check CHECK (status <> '');

COMMENT ON TABLE shop.orders IS 'One row per checkout';
COMMENT ON COLUMN shop.orders.total_cents IS 'Gross amount in cents';
