-- bad
ALTER TYPE order_status RENAME VALUE 'canceled' TO 'cancelled';

-- bad
ALTER TYPE public.mood RENAME VALUE 'meh' TO 'neutral';

-- ok
ALTER TYPE order_status ADD VALUE IF NOT EXISTS 'refunded' AFTER 'paid';

-- ok
CREATE TYPE shipping_speed AS ENUM ('slow', 'fast');
ALTER TYPE shipping_speed RENAME VALUE 'fast' TO 'express';

-- ok
SET search_path TO billing;
CREATE TYPE invoice_state AS ENUM ('open', 'payed');
ALTER TYPE invoice_state RENAME VALUE 'payed' TO 'paid';

-- bad
CREATE TYPE invoice_state AS ENUM ('open', 'payed');
SET search_path TO billing;
ALTER TYPE invoice_state RENAME VALUE 'payed' TO 'paid';
