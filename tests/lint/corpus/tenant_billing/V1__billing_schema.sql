-- expect: none
-- runner: psql
-- Flyway baseline: new tables, and the functions later defaults call.
CREATE SCHEMA IF NOT EXISTS billing;

CREATE FUNCTION billing.current_tenant() RETURNS uuid
    LANGUAGE sql STABLE
    AS $$ SELECT nullif(current_setting('app.tenant_id', true), '')::uuid $$;

CREATE FUNCTION billing.new_public_id() RETURNS text
    LANGUAGE sql
    AS $$ SELECT 'inv_' || replace(gen_random_uuid()::text, '-', '') $$;

CREATE TABLE billing.invoices (
    id          bigint,
    email       varchar(255),
    issued_at   timestamp NOT NULL DEFAULT now(),
    total_cents integer NOT NULL
);
CREATE UNIQUE INDEX invoices_email_idx ON billing.invoices (email);

CREATE TABLE billing.payments (
    id          bigint,
    invoice_id  bigint,
    amount      integer NOT NULL
);
