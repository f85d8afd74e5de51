-- expect: none
-- runner: psql
-- A STABLE function is evaluated once: PostgreSQL 11+ stores the value, no rewrite.
SET lock_timeout = '2s';
ALTER TABLE billing.invoices ADD COLUMN tenant_id uuid DEFAULT billing.current_tenant();
