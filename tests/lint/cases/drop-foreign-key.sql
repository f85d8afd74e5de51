-- bad
ALTER TABLE orders DROP CONSTRAINT orders_user_id_fkey;

-- bad
-- schema: CREATE TABLE orders (id bigint, user_id bigint, CONSTRAINT owner FOREIGN KEY (user_id) REFERENCES users (id));
ALTER TABLE orders DROP CONSTRAINT owner;

-- ok
ALTER TABLE orders DROP CONSTRAINT orders_total_check;
