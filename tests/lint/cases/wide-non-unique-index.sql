-- bad
CREATE INDEX orders_wide ON orders (a, b, c, d);

-- ok
CREATE UNIQUE INDEX orders_natural_key ON orders (a, b, c, d);

-- ok
CREATE INDEX orders_abc ON orders (a, b, c);
