-- expect: add-column-serial-or-identity
-- runner: psql
SET lock_timeout = '2s';
ALTER TABLE page_views ADD COLUMN seq bigserial;
