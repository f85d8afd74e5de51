-- expect: alter-domain-add-constraint
-- runner: psql
SET lock_timeout = '2s';
ALTER DOMAIN positive_amount ADD CONSTRAINT positive_amount_check CHECK (VALUE > 0);
