-- expect: none
-- runner: psql
-- VALIDATE takes SHARE UPDATE EXCLUSIVE (and ROW SHARE on coupons): no write blocking.
ALTER TABLE shop.orders VALIDATE CONSTRAINT orders_coupon_id_fkey;
