-- bad
ALTER TYPE order_status RENAME VALUE 'canceled' TO 'cancelled';

-- bad
ALTER TYPE public.mood RENAME VALUE 'meh' TO 'neutral';

-- ok
ALTER TYPE order_status ADD VALUE IF NOT EXISTS 'refunded' AFTER 'paid';

-- ok
CREATE TYPE shipping_speed AS ENUM ('slow', 'fast');
ALTER TYPE shipping_speed RENAME VALUE 'fast' TO 'express';
