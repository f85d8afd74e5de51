-- bad
ALTER TABLE people ADD COLUMN full_name text GENERATED ALWAYS AS (first_name || ' ' || last_name) STORED;

-- bad
ALTER TABLE orders ADD COLUMN total_cents bigint GENERATED ALWAYS AS ((total * 100)::bigint) STORED;

-- bad
-- pg-version: 18
ALTER TABLE docs ADD COLUMN search tsvector GENERATED ALWAYS AS (to_tsvector('english', body)) STORED;

-- ok
-- pg-version: 18
ALTER TABLE people ADD COLUMN full_name text GENERATED ALWAYS AS (first_name || ' ' || last_name) VIRTUAL;

-- ok
CREATE TABLE products (price numeric, qty int, total numeric GENERATED ALWAYS AS (price * qty) STORED);

-- ok
CREATE TABLE docs2 (body text);
ALTER TABLE docs2 ADD COLUMN search tsvector GENERATED ALWAYS AS (to_tsvector('english', body)) STORED;

-- ok
ALTER TABLE people ADD COLUMN full_name text;

-- bad
-- pg-version: 17
-- schema: CREATE TABLE line_items (price numeric, qty int, total numeric GENERATED ALWAYS AS (price * qty) STORED);
ALTER TABLE line_items ALTER COLUMN total SET EXPRESSION AS (price * qty * 1.2);

-- ok
-- pg-version: 18
-- schema: CREATE TABLE line_items (price numeric, qty int, total numeric GENERATED ALWAYS AS (price * qty) VIRTUAL);
ALTER TABLE line_items ALTER COLUMN total SET EXPRESSION AS (price * qty * 1.2);

-- ok
-- pg-version: 17
-- the stored values stay; only the expression goes
-- schema: CREATE TABLE line_items (price numeric, qty int, total numeric GENERATED ALWAYS AS (price * qty) STORED);
ALTER TABLE line_items ALTER COLUMN total DROP EXPRESSION;

-- ok
-- pg-version: 17
CREATE TABLE line_items (price numeric, qty int, total numeric GENERATED ALWAYS AS (price * qty) STORED);
ALTER TABLE line_items ALTER COLUMN total SET EXPRESSION AS (price * qty * 1.2);
