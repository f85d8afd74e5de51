-- bad
ALTER TYPE order_status ADD VALUE 'refunded';

-- ok
ALTER TYPE order_status ADD VALUE IF NOT EXISTS 'refunded' AFTER 'paid';

-- ok
ALTER TYPE order_status RENAME VALUE 'a' TO 'b';
