-- bad
ALTER TABLE users ADD COLUMN api_token uuid DEFAULT gen_random_uuid();

-- bad
ALTER TABLE orders ADD COLUMN public_id uuid NOT NULL DEFAULT uuid_generate_v4();

-- bad
ALTER TABLE events ADD COLUMN recorded_at timestamptz DEFAULT clock_timestamp();

-- bad
ALTER TABLE users ADD COLUMN score double precision DEFAULT random() * 100;

-- bad
ALTER TABLE accounts ADD COLUMN ref text DEFAULT make_reference_code();

-- bad
-- pg-version: 10
ALTER TABLE users ADD COLUMN active boolean DEFAULT true;

-- bad
-- pg-version: 10
ALTER TABLE users ADD COLUMN created_at timestamptz NOT NULL DEFAULT now();

-- bad
DO $$
BEGIN
  ALTER TABLE users ADD COLUMN salt text DEFAULT md5(random()::text);
END $$;

-- ok
ALTER TABLE users ADD COLUMN active boolean DEFAULT false;

-- ok
ALTER TABLE users ADD COLUMN is_admin boolean NOT NULL DEFAULT FALSE;

-- ok
ALTER TABLE users ADD COLUMN created_at timestamptz NOT NULL DEFAULT now();

-- ok
ALTER TABLE users ADD COLUMN updated_at timestamp DEFAULT CURRENT_TIMESTAMP;

-- ok
ALTER TABLE users ADD COLUMN tags text[] NOT NULL DEFAULT ARRAY[]::text[];

-- ok
ALTER TABLE users ADD COLUMN roles text[] DEFAULT '{}'::text[];

-- ok
ALTER TABLE users ADD COLUMN retries int DEFAULT (1 + 2);

-- ok
ALTER TABLE subscriptions ADD COLUMN expires_at timestamptz DEFAULT now() + interval '30 days';

-- ok
ALTER TABLE users ADD COLUMN settings jsonb NOT NULL DEFAULT '{}'::jsonb;

-- ok
ALTER TABLE users ADD COLUMN status varchar(20) DEFAULT 'active', ADD COLUMN locale text DEFAULT 'en';

-- ok
ALTER TABLE users ADD COLUMN nickname text DEFAULT NULL;

-- ok
-- pg-version: 10
ALTER TABLE users ADD COLUMN nickname text;

-- ok
CREATE TABLE api_keys (id bigserial PRIMARY KEY);
ALTER TABLE api_keys ADD COLUMN token uuid NOT NULL DEFAULT gen_random_uuid();

-- ok
ALTER TABLE users ADD COLUMN day date DEFAULT CURRENT_DATE;

-- ok
ALTER TABLE users ADD COLUMN amount numeric(10,2) DEFAULT -1.5;

-- ok
ALTER TABLE users ADD COLUMN account_type_new account_type DEFAULT 'fan';

-- ok
-- txid_current(), pg_backend_pid() and inet_client_addr() are STABLE: one value, no rewrite
ALTER TABLE audit_log ADD COLUMN xact bigint DEFAULT txid_current();
ALTER TABLE audit_log ADD COLUMN backend int DEFAULT pg_backend_pid();
ALTER TABLE audit_log ADD COLUMN client inet DEFAULT inet_client_addr();

-- ok
-- schema: CREATE FUNCTION default_tenant() RETURNS uuid LANGUAGE sql STABLE AS $$ SELECT current_setting('app.tenant')::uuid $$;
ALTER TABLE projects ADD COLUMN tenant_id uuid DEFAULT default_tenant();

-- ok
CREATE OR REPLACE FUNCTION app.plan_limit(kind text) RETURNS int LANGUAGE sql IMMUTABLE AS $$ SELECT 10 $$;
ALTER TABLE app.accounts ADD COLUMN seat_limit int NOT NULL DEFAULT app.plan_limit('basic');

-- ok
CREATE FUNCTION "NextCode"() RETURNS text LANGUAGE sql VOLATILE AS $$ SELECT 'x' $$;
ALTER FUNCTION "NextCode"() IMMUTABLE;
ALTER TABLE accounts ADD COLUMN code text DEFAULT "NextCode"();

-- bad
CREATE FUNCTION make_token() RETURNS text LANGUAGE sql AS $$ SELECT md5(random()::text) $$;
ALTER TABLE users ADD COLUMN token text DEFAULT make_token();

-- bad
-- schema: CREATE FUNCTION code(n int) RETURNS text LANGUAGE sql IMMUTABLE AS $$ SELECT 'x' $$;
-- schema: CREATE FUNCTION code(n text) RETURNS text LANGUAGE sql VOLATILE AS $$ SELECT 'x' $$;
ALTER TABLE users ADD COLUMN code text DEFAULT code(1);

-- bad
-- schema: CREATE FUNCTION shard() RETURNS int LANGUAGE sql IMMUTABLE AS $$ SELECT 1 $$;
-- schema: DROP FUNCTION shard();
ALTER TABLE users ADD COLUMN shard int DEFAULT shard();

-- ok
ALTER TABLE users ADD COLUMN name_length int DEFAULT char_length('unknown');

-- ok
-- schema: CREATE TABLE users (id bigint PRIMARY KEY, public_id uuid NOT NULL DEFAULT gen_random_uuid());
ALTER TABLE users ADD COLUMN IF NOT EXISTS public_id uuid NOT NULL DEFAULT gen_random_uuid();

-- bad
-- schema: CREATE DOMAIN noise AS float8 DEFAULT random();
ALTER TABLE users ADD COLUMN jitter noise;

-- bad
-- schema: CREATE DOMAIN app_id AS uuid DEFAULT gen_random_uuid();
-- schema: CREATE DOMAIN order_id AS app_id;
ALTER TABLE orders ADD COLUMN public_id order_id;

-- bad
CREATE DOMAIN noise AS float8;
ALTER DOMAIN noise SET DEFAULT random();
ALTER TABLE users ADD COLUMN jitter noise;

-- bad
-- pg-version: 10
-- schema: CREATE DOMAIN flag AS boolean DEFAULT false;
ALTER TABLE users ADD COLUMN archived flag;

-- ok
-- schema: CREATE DOMAIN noise AS float8 DEFAULT random();
ALTER TABLE users ADD COLUMN jitter noise DEFAULT NULL;

-- ok
-- schema: CREATE DOMAIN noise AS float8 DEFAULT random();
ALTER TABLE users ADD COLUMN jitter noise DEFAULT 0.5;

-- ok
-- schema: CREATE DOMAIN noise AS float8 DEFAULT random();
ALTER DOMAIN noise DROP DEFAULT;
ALTER TABLE users ADD COLUMN jitter noise;

-- ok
-- schema: CREATE DOMAIN stamp AS timestamptz DEFAULT now();
ALTER TABLE users ADD COLUMN seen_at stamp;

-- ok
-- schema: CREATE DOMAIN noise AS float8 DEFAULT random();
ALTER TABLE users ADD COLUMN jitters noise[];

-- ok
-- schema: CREATE DOMAIN positive_noise AS float8 DEFAULT random() CHECK (VALUE > 0);
ALTER TABLE users ADD COLUMN jitter positive_noise;
