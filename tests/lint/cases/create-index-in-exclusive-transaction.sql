-- bad
ALTER TABLE orders ADD COLUMN region text;
CREATE INDEX orders_region_idx ON orders (region);

-- ok
-- runner: psql
ALTER TABLE orders ADD COLUMN region text;
CREATE INDEX orders_region_idx ON orders (region);

-- ok
CREATE INDEX orders_region_idx ON orders (region);
