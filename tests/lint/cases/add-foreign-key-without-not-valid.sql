-- bad
ALTER TABLE orders ADD CONSTRAINT orders_user_fk FOREIGN KEY (user_id) REFERENCES users (id);

-- bad
ALTER TABLE orders ADD FOREIGN KEY (user_id) REFERENCES users ON DELETE CASCADE;

-- bad
ALTER TABLE orders ADD COLUMN currency_id int NOT NULL DEFAULT 1 REFERENCES currencies (id);

-- bad
-- schema: CREATE TABLE comments (id bigint, post_id bigint);
ALTER TABLE comments ADD CONSTRAINT comments_post_fk FOREIGN KEY (post_id) REFERENCES posts (id);

-- ok
ALTER TABLE orders ADD CONSTRAINT orders_user_fk FOREIGN KEY (user_id) REFERENCES users (id) NOT VALID;

-- ok
ALTER TABLE orders VALIDATE CONSTRAINT orders_user_fk;

-- ok
ALTER TABLE orders ADD COLUMN coupon_id bigint REFERENCES coupons (id);

-- ok
CREATE TABLE order_notes (id bigint, order_id bigint);
ALTER TABLE order_notes ADD CONSTRAINT order_notes_order_fk FOREIGN KEY (order_id) REFERENCES orders (id);

-- ok
CREATE TABLE refunds (id bigserial PRIMARY KEY, order_id bigint NOT NULL REFERENCES orders (id));
