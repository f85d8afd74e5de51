-- bad
ALTER TABLE orders DROP CONSTRAINT orders_total_check;

-- ok
ALTER TABLE orders DROP CONSTRAINT orders_user_id_fkey;

-- ok
CREATE TABLE t (a int CONSTRAINT a_pos CHECK (a > 0));
ALTER TABLE t DROP CONSTRAINT a_pos;
