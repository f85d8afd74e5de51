-- expect: alter-column-type-rewrite
-- runner: psql
SET lock_timeout = '3s';

CREATE TYPE shop.order_status AS ENUM ('new', 'paid', 'shipped', 'cancelled');

ALTER TABLE shop.orders DROP CONSTRAINT orders_status_check;
ALTER TABLE shop.orders ALTER COLUMN status DROP DEFAULT;
-- text -> enum goes through an I/O cast: every row is rewritten.
ALTER TABLE shop.orders
    ALTER COLUMN status TYPE shop.order_status USING status::shop.order_status;
ALTER TABLE shop.orders ALTER COLUMN status SET DEFAULT 'new';
