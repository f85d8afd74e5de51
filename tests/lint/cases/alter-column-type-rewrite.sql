-- bad
-- schema: CREATE TABLE users (id integer PRIMARY KEY, email varchar(100));
ALTER TABLE users ALTER COLUMN id TYPE bigint;

-- bad
ALTER TABLE users ALTER COLUMN id TYPE bigint;

-- bad
-- schema: CREATE TABLE users (id bigint, name varchar(200));
ALTER TABLE users ALTER COLUMN name TYPE varchar(100);

-- bad
-- schema: CREATE TABLE users (id bigint, name text);
ALTER TABLE users ALTER COLUMN name TYPE varchar(100);

-- bad
-- schema: CREATE TYPE user_status AS ENUM ('active', 'banned');
-- schema: CREATE TABLE users (id bigint, status text);
ALTER TABLE users ALTER COLUMN status TYPE user_status USING status::user_status;

-- bad
-- schema: CREATE TABLE hosts (id bigint, addr text);
ALTER TABLE hosts ALTER COLUMN addr TYPE inet USING addr::inet;

-- bad
-- schema: CREATE TABLE users (id bigint, email text);
ALTER TABLE users ALTER COLUMN email TYPE text USING lower(email);

-- bad
-- schema: CREATE TABLE prices (id bigint, amount numeric(10,2));
ALTER TABLE prices ALTER COLUMN amount TYPE numeric(12,4);

-- bad
-- schema: CREATE TABLE events (id bigint, at timestamp);
ALTER TABLE events ALTER COLUMN at TYPE timestamptz;

-- bad
-- schema: CREATE TABLE users (id bigint, email text);
-- schema: CREATE UNIQUE INDEX users_email_idx ON users (email);
ALTER TABLE users ALTER COLUMN email TYPE citext;

-- bad
ALTER TABLE users ALTER COLUMN id SET DATA TYPE uuid USING gen_random_uuid();

-- bad
-- schema: CREATE TABLE t (id bigint, flag char(1));
ALTER TABLE t ALTER COLUMN flag TYPE char(2);

-- bad
-- schema: CREATE TABLE m (id bigint, v real);
ALTER TABLE m ALTER COLUMN v TYPE double precision;

-- bad
ALTER TABLE users ADD COLUMN legacy_id int;
ALTER TABLE users ALTER COLUMN legacy_id TYPE bigint;

-- ok
-- schema: CREATE TABLE users (id bigint, email varchar(100));
ALTER TABLE users ALTER COLUMN email TYPE varchar(200);

-- ok
-- schema: CREATE TABLE users (id bigint, email varchar(100));
ALTER TABLE users ALTER COLUMN email TYPE text;

-- ok
-- schema: CREATE TABLE users (id bigint, email character varying(100));
ALTER TABLE users ALTER COLUMN email TYPE character varying;

-- ok
-- schema: CREATE TABLE users (id bigint, bio text);
ALTER TABLE users ALTER COLUMN bio TYPE varchar;

-- ok
ALTER TABLE users ALTER COLUMN email TYPE varchar(255);

-- ok
ALTER TABLE users ALTER COLUMN email TYPE text;

-- ok
-- schema: CREATE TABLE prices (id bigint, amount numeric(10,2));
ALTER TABLE prices ALTER COLUMN amount TYPE numeric(14,2);

-- ok
-- schema: CREATE TABLE prices (id bigint, amount numeric(10,2));
ALTER TABLE prices ALTER COLUMN amount TYPE numeric;

-- ok
-- schema: CREATE TABLE hosts (id bigint, net cidr);
ALTER TABLE hosts ALTER COLUMN net TYPE inet;

-- ok
-- schema: CREATE TABLE users (id bigint, email text);
ALTER TABLE users ALTER COLUMN email TYPE citext;

-- ok
-- schema: CREATE TABLE events (id bigint, at timestamp(3));
ALTER TABLE events ALTER COLUMN at TYPE timestamp(6);

-- ok
-- schema: CREATE TABLE events (id bigint, at timestamp);
SET timezone = 'UTC';
ALTER TABLE events ALTER COLUMN at TYPE timestamptz;

-- ok
-- schema: CREATE TABLE users (id bigint, email varchar(100));
ALTER TABLE users ALTER COLUMN email TYPE varchar(150) USING email::varchar(150);

-- ok
CREATE TABLE drafts (id int, body varchar(10));
ALTER TABLE drafts ALTER COLUMN id TYPE bigint;

-- ok
-- schema: CREATE TABLE users (id bigint, name varchar(50));
ALTER TABLE users ADD COLUMN nick varchar(20);
ALTER TABLE users ALTER COLUMN nick TYPE varchar(40), ALTER COLUMN name TYPE varchar(80);

-- ok
-- schema: CREATE TABLE users (id bigint, email varchar(100));
-- schema: ALTER TABLE users ALTER COLUMN email TYPE varchar(150);
ALTER TABLE users ALTER COLUMN email TYPE varchar(200);

-- bad
-- schema: CREATE TYPE ticket_state AS ENUM ('open', 'closed');
-- schema: CREATE TABLE tickets (id bigint PRIMARY KEY, state ticket_state NOT NULL);
ALTER TYPE ticket_state RENAME TO ticket_state_old;
CREATE TYPE ticket_state AS ENUM ('open', 'pending', 'closed');
ALTER TABLE tickets ALTER COLUMN state TYPE ticket_state USING state::text::ticket_state;
DROP TYPE ticket_state_old;

-- ok
-- schema: CREATE TYPE ticket_state AS ENUM ('open', 'closed');
-- schema: CREATE TABLE tickets (id bigint PRIMARY KEY, state ticket_state NOT NULL);
ALTER TYPE ticket_state RENAME TO ticket_status;
ALTER TABLE tickets ALTER COLUMN state TYPE ticket_status;

-- ok
-- runner: psql
-- schema: CREATE SCHEMA billing;
-- schema: SET search_path TO billing, public;
-- schema: CREATE TABLE "Invoice" ("Total" numeric(12,2) NOT NULL);
SET lock_timeout = '2s';
ALTER TABLE billing."Invoice" ALTER COLUMN "Total" TYPE numeric(18,2);

-- ok
-- runner: psql
-- schema: CREATE TABLE billing.payments (amount numeric(12,2));
SET search_path = billing;
ALTER TABLE payments ALTER COLUMN amount TYPE numeric(16,2);

-- bad
-- runner: psql
-- schema: CREATE TABLE billing.payments (amount numeric(12,2));
-- schema: CREATE TABLE payments (amount integer);
-- public.payments, not billing.payments: integer -> numeric rewrites
ALTER TABLE payments ALTER COLUMN amount TYPE numeric(16,2);

-- ok
-- schema: CREATE TABLE events (id bigint, at timestamp);
SET TIME ZONE 'Etc/GMT';
ALTER TABLE events ALTER COLUMN at TYPE timestamptz;

-- ok
-- schema: CREATE TABLE events (id bigint, at timestamp(3));
SET LOCAL TimeZone = 'GMT';
ALTER TABLE events ALTER COLUMN at SET DATA TYPE timestamptz(6);

-- ok
-- schema: CREATE TABLE events (id bigint, at timestamp);
SET TIME ZONE INTERVAL '+00:00' HOUR TO MINUTE;
ALTER TABLE events ALTER COLUMN at TYPE timestamp with time zone;

-- bad
-- schema: CREATE TABLE events (id bigint, at timestamp);
SET TIME ZONE 'Europe/London';
ALTER TABLE events ALTER COLUMN at TYPE timestamptz;

-- bad
-- schema: CREATE TABLE events (id bigint, at timestamp);
SET TIME ZONE 'Africa/Abidjan';
ALTER TABLE events ALTER COLUMN at TYPE timestamptz;

-- bad
-- schema: CREATE TABLE users (id bigint, email varchar(100));
-- schema: CREATE UNIQUE INDEX users_email_idx ON users (email);
ALTER TABLE users ALTER COLUMN email TYPE varchar(200) COLLATE "C";

-- ok
-- schema: CREATE TABLE users (id bigint, email varchar(100));
ALTER TABLE users ALTER COLUMN email TYPE varchar(200) COLLATE "C";

-- ok
-- schema: CREATE TABLE users (id bigint, email varchar(100));
-- schema: CREATE UNIQUE INDEX users_email_idx ON users (email);
ALTER TABLE users ALTER COLUMN email TYPE varchar(200);

-- bad
-- schema: CREATE TABLE accounts (id bigint, balance integer);
-- schema: CREATE DOMAIN positive AS integer CHECK (VALUE > 0);
ALTER TABLE accounts ALTER COLUMN balance TYPE positive;

-- bad
-- schema: CREATE TABLE accounts (id bigint, balance integer);
-- schema: CREATE DOMAIN positive AS integer CHECK (VALUE > 0);
-- schema: CREATE DOMAIN small_positive AS positive;
ALTER TABLE accounts ALTER COLUMN balance TYPE small_positive;

-- bad
-- schema: CREATE TABLE accounts (id bigint, balance integer);
CREATE DOMAIN required_int AS integer NOT NULL;
ALTER TABLE accounts ALTER COLUMN balance TYPE required_int;

-- bad
-- schema: CREATE DOMAIN short_text AS text CHECK (length(VALUE) < 50);
ALTER TABLE users ALTER COLUMN name TYPE short_text;

-- bad
-- schema: CREATE TABLE users (id bigint, name varchar(40));
-- schema: CREATE DOMAIN short_text AS text CHECK (length(VALUE) < 50);
ALTER TABLE users ALTER COLUMN name TYPE short_text;

-- bad
-- schema: CREATE TABLE accounts (id bigint, limits integer[]);
-- schema: CREATE DOMAIN positive AS integer CHECK (VALUE > 0);
ALTER TABLE accounts ALTER COLUMN limits TYPE positive[];

-- ok
-- schema: CREATE TABLE accounts (id bigint, balance integer);
-- schema: CREATE DOMAIN amount AS integer;
ALTER TABLE accounts ALTER COLUMN balance TYPE amount;

-- ok
-- schema: CREATE DOMAIN positive AS integer CHECK (VALUE > 0);
-- schema: CREATE TABLE accounts (id bigint, balance positive);
ALTER TABLE accounts ALTER COLUMN balance TYPE integer;

-- ok
-- schema: CREATE DOMAIN positive AS integer CHECK (VALUE > 0);
-- schema: CREATE TABLE accounts (id bigint, balance positive);
ALTER TABLE accounts ALTER COLUMN balance TYPE positive;

-- ok
-- schema: CREATE DOMAIN label AS text;
ALTER TABLE users ALTER COLUMN name TYPE label;

-- ok
CREATE TABLE accounts (id bigint, balance integer);
CREATE DOMAIN positive AS integer CHECK (VALUE > 0);
ALTER TABLE accounts ALTER COLUMN balance TYPE positive;
