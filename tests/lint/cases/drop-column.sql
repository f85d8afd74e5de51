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

-- bad
-- schema: CREATE TYPE ticket_state AS ENUM ('open', 'closed');
-- schema: CREATE TABLE tickets (id bigint, state ticket_state NOT NULL DEFAULT 'open');
DROP TYPE ticket_state CASCADE;

-- bad
-- schema: CREATE DOMAIN app.email AS text CHECK (VALUE LIKE '%@%');
-- schema: CREATE TABLE app.users (id bigint, contact app.email);
DROP DOMAIN IF EXISTS app.email CASCADE;

-- ok
-- schema: CREATE TYPE ticket_state AS ENUM ('open', 'closed');
-- schema: CREATE TABLE tickets (id bigint, state text);
DROP TYPE ticket_state CASCADE;

-- ok
-- schema: CREATE TYPE ticket_state AS ENUM ('open', 'closed');
-- schema: CREATE TABLE tickets (id bigint, state ticket_state);
DROP TYPE ticket_state;

-- ok
CREATE TYPE draft_state AS ENUM ('new');
CREATE TABLE drafts (id bigint, state draft_state);
DROP TYPE draft_state CASCADE;
