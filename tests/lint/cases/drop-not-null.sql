-- bad
ALTER TABLE users ALTER COLUMN email DROP NOT NULL;

-- bad
ALTER TABLE orders ALTER shipped_at DROP NOT NULL, ALTER COLUMN note SET DEFAULT '';

-- ok
CREATE TABLE drafts (id bigint, body text NOT NULL);
ALTER TABLE drafts ALTER COLUMN body DROP NOT NULL;

-- ok
ALTER TABLE users ALTER COLUMN email SET DEFAULT '';
