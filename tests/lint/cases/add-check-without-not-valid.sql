-- bad
ALTER TABLE users ADD CONSTRAINT users_age_check CHECK (age >= 0);

-- bad
ALTER TABLE users
  ADD CONSTRAINT users_email_check
  CHECK (email ~* '^[A-Za-z0-9._%+-]+@[A-Za-z0-9.-]+\.[A-Za-z]{2,}$');

-- bad
ALTER TABLE orders ADD CHECK (total >= 0);

-- bad
-- schema: CREATE TABLE orders (id bigint, total numeric);
ALTER TABLE orders ADD CONSTRAINT total_positive CHECK (total > 0), ADD COLUMN note text;

-- ok
ALTER TABLE users
  ADD CONSTRAINT users_email_check
  CHECK (email ~* '^[A-Za-z0-9._%+-]+@[A-Za-z0-9.-]+\.[A-Za-z]{2,}$')
  NOT VALID;

-- ok
ALTER TABLE users VALIDATE CONSTRAINT users_email_check;

-- ok
CREATE TABLE line_items (qty int, price numeric);
ALTER TABLE line_items ADD CONSTRAINT qty_positive CHECK (qty > 0);

-- ok
CREATE TABLE coupons (code text, pct int CHECK (pct BETWEEN 0 AND 100));

-- ok
ALTER TABLE users ADD CONSTRAINT users_email_key UNIQUE USING INDEX users_email_idx;

-- bad
-- schema: CREATE TABLE blog_post (id bigint PRIMARY KEY);
ALTER TABLE "blog_post" ADD COLUMN "views" integer DEFAULT 0 NOT NULL CHECK ("views" >= 0);

-- bad
ALTER TABLE accounts ADD COLUMN verified_at timestamptz CONSTRAINT verified_after_created CHECK (verified_at > created_at);

-- ok
CREATE TABLE counters (id bigint PRIMARY KEY);
ALTER TABLE counters ADD COLUMN hits integer NOT NULL DEFAULT 0 CHECK (hits >= 0);

-- ok
ALTER TABLE accounts ADD COLUMN nickname text;

-- ok
-- runner: psql
SET search_path TO billing;
CREATE TABLE refunds (id bigint PRIMARY KEY, amount numeric(12,2));
ALTER TABLE billing.refunds ADD CONSTRAINT refunds_amount_positive CHECK (amount > 0);
