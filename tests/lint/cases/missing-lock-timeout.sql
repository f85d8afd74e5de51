-- bad
-- runner: psql
ALTER TABLE users ADD COLUMN active boolean DEFAULT false;

-- bad
-- runner: psql
BEGIN;
SET LOCAL lock_timeout = '2s';
ALTER TABLE users ADD COLUMN a int;
COMMIT;
ALTER TABLE users ADD COLUMN b int;

-- bad
-- runner: psql
SET LOCAL lock_timeout = '2s';
ALTER TABLE users ADD COLUMN a int;

-- bad
-- runner: psql
SET lock_timeout = '2s';
ALTER TABLE users ADD COLUMN a int;
SET lock_timeout = 0;
ALTER TABLE users DROP COLUMN b;

-- bad
-- runner: psql
SET lock_timeout = '2s';
RESET lock_timeout;
DROP INDEX users_email_idx;

-- bad
-- runner: psql
CREATE TABLE payments (id bigserial PRIMARY KEY, order_id bigint NOT NULL REFERENCES orders (id));

-- bad
-- runner: psql
CREATE INDEX orders_user_idx ON orders (user_id);

-- bad
-- runner: psql
CREATE TRIGGER users_audit AFTER UPDATE ON users FOR EACH ROW EXECUTE FUNCTION audit();

-- bad
-- runner: psql
TRUNCATE staging_rows;

-- bad
-- runner: psql
LOCK TABLE users IN SHARE MODE;

-- bad
-- runner: psql
REFRESH MATERIALIZED VIEW CONCURRENTLY daily_totals;

-- bad
-- pgshift:lock-timeout 0
ALTER TABLE users ADD COLUMN a int;

-- bad
-- runner: psql
SET statement_timeout = '5s';
ALTER TABLE orders ADD CONSTRAINT orders_user_fk FOREIGN KEY (user_id) REFERENCES users (id) NOT VALID;

-- bad
-- runner: psql
-- pg-version: 16
SET transaction_timeout = '5s';
ALTER TABLE users ADD COLUMN a int;

-- ok
ALTER TABLE users ADD COLUMN active boolean DEFAULT false;

-- ok
-- pgshift:no-transaction
ALTER TABLE users ADD COLUMN active boolean DEFAULT false;

-- ok
-- runner: psql
SET lock_timeout = '2s';
ALTER TABLE users ADD COLUMN active boolean DEFAULT false;

-- ok
-- runner: psql
BEGIN;
SET LOCAL lock_timeout = '3s';
ALTER TABLE users ADD COLUMN a int;
ALTER TABLE users ADD COLUMN b int;
COMMIT;

-- ok
-- runner: psql
SELECT set_config('lock_timeout', '2s', false);
ALTER TABLE users ADD COLUMN a int;

-- ok
-- runner: psql
CREATE TABLE invoices (id bigserial PRIMARY KEY, total numeric);
CREATE INDEX invoices_total_idx ON invoices (total);
ALTER TABLE invoices ADD COLUMN note text;

-- ok
-- runner: psql
CREATE INDEX CONCURRENTLY orders_user_idx ON orders (user_id);

-- ok
-- runner: psql
ALTER TABLE orders VALIDATE CONSTRAINT orders_user_fk;

-- ok
-- runner: psql
ALTER TABLE orders ALTER COLUMN status SET STATISTICS 500;
ALTER TABLE orders SET (autovacuum_vacuum_scale_factor = 0.01);

-- ok
-- runner: psql
UPDATE users SET active = true WHERE id < 1000;
INSERT INTO settings (key, value) VALUES ('x', 'y');

-- ok
-- runner: psql
-- pg-version: 17
SET transaction_timeout = '5s';
ALTER TABLE users ADD COLUMN a int;

-- ok
-- runner: psql
CREATE TABLE notes (id bigint);
CREATE TABLE note_tags (note_id bigint REFERENCES notes (id));

-- ok
-- runner: psql
SET lock_timeout TO '1s';
DO $$
BEGIN
  ALTER TABLE users ADD COLUMN c int;
END $$;

-- ok
-- runner: psql
DO $$
BEGIN
  SET LOCAL lock_timeout = '2s';
  ALTER TABLE users ADD COLUMN c int;
END $$;

-- ok
-- runner: psql
DO $$
BEGIN
  PERFORM set_config('lock_timeout', '2s', true);
  ALTER TABLE users ADD COLUMN c int;
END $$;

-- bad
-- runner: psql
DO $$
BEGIN
  SET LOCAL lock_timeout = '2s';
  ALTER TABLE users ADD COLUMN c int;
END $$;
ALTER TABLE users ADD COLUMN d int;

-- ok
-- runner: psql
CREATE SEQUENCE inventory.warehouses_id_seq AS integer START WITH 1;
ALTER TABLE inventory.warehouses_id_seq OWNER TO app;

-- bad
-- runner: psql
-- schema: CREATE SEQUENCE orders_id_seq;
CREATE SEQUENCE IF NOT EXISTS orders_id_seq;
ALTER TABLE orders_id_seq OWNER TO app;

-- bad
-- runner: psql
create policy "Owners can read their todos" on public.todos
  for select to authenticated using ((select auth.uid()) = user_id);

-- bad
-- runner: psql
ALTER POLICY todos_owner ON todos USING (owner_id = current_user_id());

-- ok
-- runner: psql
CREATE TABLE notes (id bigint PRIMARY KEY, owner text NOT NULL);
ALTER TABLE notes ENABLE ROW LEVEL SECURITY;
CREATE POLICY notes_owner ON notes USING (owner = current_user);

-- ok
-- runner: psql
SET lock_timeout = '2s';
CREATE POLICY todos_owner ON todos USING (owner_id = current_user_id());

-- bad
-- runner: psql
BEGIN;
SET lock_timeout = '2s';
ROLLBACK;
ALTER TABLE users ADD COLUMN rolled_back_timeout int;

-- ok
-- runner: psql
SET lock_timeout = '2s';
BEGIN;
SET lock_timeout = 0;
ROLLBACK;
ALTER TABLE users ADD COLUMN timeout_back int;

-- bad
-- runner: psql
-- schema: CREATE DOMAIN amount AS integer;
-- schema: CREATE TABLE payments (id integer, total amount);
ALTER DOMAIN amount ADD CONSTRAINT amount_positive CHECK (VALUE > 0);

-- ok
-- runner: psql
-- schema: CREATE DOMAIN amount AS integer;
-- schema: CREATE TABLE payments (id integer, total amount);
ALTER DOMAIN amount ADD CONSTRAINT amount_positive CHECK (VALUE > 0) NOT VALID;
