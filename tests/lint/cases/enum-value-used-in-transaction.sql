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

-- ok
ALTER TYPE mood ADD VALUE 'happy';
INSERT INTO log (msg) VALUES ('happy'::text);

-- ok
ALTER TYPE mood ADD VALUE 'happy';
SELECT format('happy %s', 1), 'happy'::varchar, '"happy"'::jsonb FROM log WHERE msg LIKE 'happy';

-- ok
-- schema: CREATE TABLE log (msg text, at timestamptz);
ALTER TYPE mood ADD VALUE 'happy';
INSERT INTO log (msg) VALUES ('happy');
UPDATE log SET msg = 'happy' WHERE msg = 'sad';

-- bad
-- schema: CREATE TABLE people (name text, current mood);
ALTER TYPE mood ADD VALUE 'happy';
UPDATE people SET name = 'x' WHERE current = 'happy';

-- bad
ALTER TYPE mood ADD VALUE 'happy';
INSERT INTO log (msg) VALUES ('happy'::text::mood);

-- bad
ALTER TYPE mood ADD VALUE 'happy';
SELECT '{sad,happy}'::mood[];

-- bad
ALTER TYPE mood ADD VALUE 'happy';
SELECT enum_range(NULL::mood);

-- ok
CREATE TYPE feeling AS ENUM ('sad');
ALTER TYPE mood ADD VALUE 'happy';
ALTER TYPE feeling ADD VALUE 'glad';
SELECT 'glad'::mood, 'happy'::feeling;

-- bad
ALTER TYPE mood ADD VALUE 'happy';
CREATE FUNCTION cheer() RETURNS mood LANGUAGE sql AS $$ SELECT 'happy'::mood $$;

-- ok
ALTER TYPE mood ADD VALUE 'happy';
SET LOCAL check_function_bodies = off;
CREATE FUNCTION cheer() RETURNS mood LANGUAGE sql AS $$ SELECT 'happy'::mood $$;

-- ok
ALTER TYPE mood ADD VALUE 'happy';
CREATE FUNCTION cheer() RETURNS mood LANGUAGE plpgsql AS $$ BEGIN RETURN 'happy'::mood; END $$;

-- bad
ALTER TYPE mood ADD VALUE 'happy';
CREATE FUNCTION cheer(m mood DEFAULT 'happy') RETURNS int LANGUAGE sql RETURN 1;

-- bad
ALTER TYPE mood ADD VALUE 'happy';
DO $$
DECLARE
  current mood;
BEGIN
  current := 'happy';
END $$;

-- ok
ALTER TYPE mood ADD VALUE 'happy';
DO $$
DECLARE
  note text;
BEGIN
  note := 'happy';
  RAISE NOTICE '%', 'happy';
END $$;

-- bad
-- runner: psql
DO $$
BEGIN
  ALTER TYPE mood ADD VALUE 'happy';
  UPDATE people SET current = 'happy' WHERE current = 'ok';
END $$;

-- bad
-- runner: psql
DO $$
BEGIN
  ALTER TYPE mood ADD VALUE 'happy';
  IF EXISTS (SELECT 1 FROM people WHERE current = 'happy') THEN
    RAISE NOTICE 'already';
  END IF;
END $$;

-- ok
-- runner: psql
DO $$ BEGIN ALTER TYPE mood ADD VALUE 'happy'; END $$;
DO $$ BEGIN UPDATE people SET current = 'happy' WHERE current = 'ok'; END $$;
