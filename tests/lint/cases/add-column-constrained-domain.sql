-- bad
CREATE DOMAIN positive AS integer CHECK (VALUE > 0);
ALTER TABLE accounts ADD COLUMN credit_limit positive;

-- bad
-- schema: CREATE DOMAIN positive AS integer CHECK (VALUE > 0);
ALTER TABLE accounts ADD COLUMN credit_limit positive DEFAULT 100;

-- bad
-- schema: CREATE DOMAIN positive AS integer CONSTRAINT positive_value CHECK (VALUE > 0);
-- schema: CREATE DOMAIN small_positive AS positive;
ALTER TABLE accounts ADD COLUMN seats small_positive;

-- bad
-- schema: CREATE DOMAIN quantity AS integer NOT NULL DEFAULT 0;
ALTER TABLE order_lines ADD COLUMN quantity quantity;

-- bad
-- schema: CREATE DOMAIN quantity AS integer NOT NULL;
ALTER TABLE order_lines ADD COLUMN quantity quantity;

-- bad
-- schema: CREATE DOMAIN amount AS numeric(12,2);
ALTER DOMAIN amount ADD CONSTRAINT amount_positive CHECK (VALUE > 0) NOT VALID;
ALTER TABLE invoices ADD COLUMN total amount;

-- bad
-- schema: CREATE DOMAIN amount AS numeric(12,2);
ALTER DOMAIN amount SET NOT NULL;
ALTER TABLE invoices ADD COLUMN total amount DEFAULT 0;

-- bad
-- schema: CREATE DOMAIN app.email AS text CHECK (VALUE LIKE '%@%');
ALTER TABLE app.users ADD COLUMN backup_email app.email;

-- bad
-- schema: CREATE DOMAIN app.email AS text CHECK (VALUE LIKE '%@%');
SET search_path TO app, public;
ALTER TABLE users ADD COLUMN backup_email email;

-- bad
-- schema: CREATE DOMAIN tag_list AS text[] CHECK (cardinality(VALUE) <= 10);
ALTER TABLE posts ADD COLUMN tags tag_list;

-- bad
-- schema: CREATE DOMAIN positive AS integer CHECK (VALUE > 0) CHECK (VALUE < 1000000);
ALTER DOMAIN positive DROP CONSTRAINT positive_check;
ALTER TABLE accounts ADD COLUMN credit_limit positive;

-- bad
-- schema: CREATE DOMAIN positive AS integer CHECK (VALUE > 0);
-- schema: ALTER DOMAIN positive RENAME TO old_positive;
ALTER TABLE accounts ADD COLUMN credit_limit old_positive;

-- bad
CREATE DOMAIN positive AS integer CHECK (VALUE > 0);
DO $$
BEGIN
  ALTER TABLE accounts ADD COLUMN credit_limit positive;
END $$;

-- ok
-- schema: CREATE DOMAIN label AS text;
ALTER TABLE accounts ADD COLUMN nickname label;

-- ok
-- schema: CREATE DOMAIN positive AS integer CHECK (VALUE > 0);
ALTER TABLE accounts ADD COLUMN limits positive[];

-- ok
-- schema: CREATE DOMAIN positive AS integer CHECK (VALUE > 0);
CREATE DOMAIN limits AS positive[];
ALTER TABLE accounts ADD COLUMN limits limits;

-- ok
CREATE DOMAIN positive AS integer CHECK (VALUE > 0);
CREATE TABLE accounts (id bigint PRIMARY KEY);
ALTER TABLE accounts ADD COLUMN credit_limit positive;

-- ok
-- schema: CREATE DOMAIN positive AS integer CHECK (VALUE > 0);
ALTER DOMAIN positive DROP CONSTRAINT positive_check;
ALTER TABLE accounts ADD COLUMN credit_limit positive;

-- ok
-- schema: CREATE DOMAIN quantity AS integer NOT NULL;
ALTER DOMAIN quantity DROP NOT NULL;
ALTER TABLE order_lines ADD COLUMN quantity quantity;

-- ok
-- schema: CREATE DOMAIN positive AS integer CHECK (VALUE > 0);
-- schema: ALTER DOMAIN positive RENAME TO old_positive;
-- schema: CREATE DOMAIN positive AS integer;
ALTER TABLE accounts ADD COLUMN credit_limit positive;

-- ok
-- schema: CREATE DOMAIN app.positive AS integer CHECK (VALUE > 0);
ALTER TABLE accounts ADD COLUMN credit_limit positive;

-- ok
-- schema: CREATE DOMAIN positive AS integer CHECK (VALUE > 0);
-- schema: DROP DOMAIN positive;
-- schema: CREATE DOMAIN positive AS integer;
ALTER TABLE accounts ADD COLUMN credit_limit positive;

-- ok
-- schema: CREATE DOMAIN positive AS integer CHECK (VALUE > 0);
ALTER TABLE accounts ADD COLUMN credit_limit integer CHECK (credit_limit > 0);

-- ok
-- schema: CREATE DOMAIN positive AS integer CONSTRAINT above_zero CHECK (VALUE > 0);
ALTER DOMAIN positive RENAME CONSTRAINT above_zero TO positive_value;
ALTER DOMAIN positive DROP CONSTRAINT positive_value;
ALTER TABLE accounts ADD COLUMN credit_limit positive;

-- bad
-- schema: CREATE DOMAIN positive AS integer CONSTRAINT above_zero CHECK (VALUE > 0);
ALTER DOMAIN positive RENAME CONSTRAINT above_zero TO positive_value;
ALTER TABLE accounts ADD COLUMN credit_limit positive;
