-- expect: none
-- runner: psql
ALTER TABLE orders VALIDATE CONSTRAINT orders_customer_fk;
GRANT SELECT, INSERT ON orders TO app_rw;
COMMENT ON TABLE orders IS 'orders';
