-- bad
ALTER TABLE users ADD COLUMN tenant_id bigint NOT NULL;

-- bad
ALTER TABLE orders ADD COLUMN currency char(3) NOT NULL REFERENCES currencies (code);

-- bad
-- schema: CREATE TABLE accounts (id bigint PRIMARY KEY);
ALTER TABLE accounts ADD COLUMN plan text NOT NULL;

-- bad
ALTER TABLE users ADD COLUMN region text NOT NULL DEFAULT NULL;

-- bad
ALTER TABLE IF EXISTS users ADD COLUMN IF NOT EXISTS org_id uuid NOT NULL;

-- ok
ALTER TABLE users ADD COLUMN tenant_id bigint NOT NULL DEFAULT 0;

-- ok
ALTER TABLE users ADD COLUMN is_admin boolean NOT NULL DEFAULT false;

-- ok
ALTER TABLE users ADD COLUMN timezone varchar(50);

-- ok
CREATE TABLE memberships (id bigint);
ALTER TABLE memberships ADD COLUMN role text NOT NULL;

-- ok
ALTER TABLE users ADD COLUMN seq bigserial NOT NULL;

-- ok
ALTER TABLE users ADD COLUMN created timestamptz NOT NULL DEFAULT now();

-- ok
ALTER TABLE users ADD COLUMN ident bigint NOT NULL GENERATED ALWAYS AS IDENTITY;

-- ok
BEGIN;
ALTER TABLE "app_order" ADD COLUMN "priority" integer DEFAULT 0 NOT NULL;
ALTER TABLE "app_order" ALTER COLUMN "priority" DROP DEFAULT;
COMMIT;

-- ok
-- schema: CREATE TABLE accounts (id bigint PRIMARY KEY, plan text NOT NULL DEFAULT 'free');
ALTER TABLE accounts ADD COLUMN IF NOT EXISTS plan text NOT NULL;

-- bad
-- schema: CREATE TABLE accounts (id bigint PRIMARY KEY, plan text NOT NULL DEFAULT 'free');
ALTER TABLE accounts ADD COLUMN IF NOT EXISTS plan text NOT NULL, ADD COLUMN IF NOT EXISTS region text NOT NULL;
