-- expect: missing-lock-timeout
-- runner: psql
SET lock_timeout = '2s';
ALTER TABLE orders ADD COLUMN promo text;
SET lock_timeout = 0;
ALTER TABLE orders ADD COLUMN promo_source text;
