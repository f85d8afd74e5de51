-- bad
ALTER TYPE order_status ADD VALUE 'refunded' AFTER 'paid';
UPDATE orders SET status = 'refunded' WHERE refunded_at IS NOT NULL;

-- bad
ALTER TYPE app.mood ADD VALUE IF NOT EXISTS 'meh';
ALTER TABLE people ALTER COLUMN mood SET DEFAULT 'meh';

-- bad
-- runner: psql
BEGIN;
ALTER TYPE order_status ADD VALUE 'refunded';
INSERT INTO orders (status) VALUES ('refunded');
COMMIT;

-- ok
ALTER TYPE order_status ADD VALUE 'refunded' AFTER 'paid';

-- ok
-- runner: psql
ALTER TYPE order_status ADD VALUE 'refunded';
UPDATE orders SET status = 'refunded' WHERE refunded_at IS NOT NULL;

-- bad
-- pg-version: 16
CREATE TYPE mood AS ENUM ('sad', 'ok');
ALTER TYPE mood ADD VALUE 'happy';
CREATE TABLE people (name text, current mood DEFAULT 'happy');

-- ok
-- pg-version: 17
CREATE TYPE mood AS ENUM ('sad', 'ok');
ALTER TYPE mood ADD VALUE 'happy';
CREATE TABLE people (name text, current mood DEFAULT 'happy');

-- ok
ALTER TYPE order_status ADD VALUE 'refunded';
UPDATE orders SET note = 'paid' WHERE id = 1;

-- ok
-- pg-version: 11
-- runner: psql
ALTER TYPE order_status ADD VALUE 'refunded';
UPDATE orders SET status = 'refunded';
