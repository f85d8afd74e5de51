-- bad
TRUNCATE users CASCADE;

-- bad
TRUNCATE TABLE orders, order_items RESTART IDENTITY CASCADE;

-- ok
TRUNCATE TABLE order_items, orders;

-- ok
TRUNCATE staging_rows;
