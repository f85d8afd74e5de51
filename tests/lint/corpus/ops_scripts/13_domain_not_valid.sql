-- expect: none
-- runner: psql
SET lock_timeout = '2s';
ALTER DOMAIN email_address ADD CONSTRAINT email_has_at CHECK (VALUE LIKE '%@%') NOT VALID;
