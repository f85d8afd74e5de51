-- bad
ALTER TABLE users DROP COLUMN old_column;

-- bad
ALTER TABLE users DROP COLUMN IF EXISTS legacy_flag CASCADE;

-- bad
ALTER TABLE orders ADD COLUMN total_cents bigint, DROP COLUMN total;

-- bad
DO $$
BEGIN
  ALTER TABLE users DROP COLUMN old_name;
END $$;

-- ok
CREATE TABLE drafts (id bigint, body text, tmp text);
ALTER TABLE drafts DROP COLUMN tmp;

-- ok
ALTER TABLE users ADD COLUMN scratch text;
ALTER TABLE users DROP COLUMN scratch;

-- ok
ALTER TABLE users ADD COLUMN display_name varchar(100);

-- ok
ALTER TABLE users DROP CONSTRAINT users_old_check;
