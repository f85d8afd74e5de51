-- bad
CREATE INDEX index_on_orders_customer_id_and_created_at_and_status_and_region_code ON orders (customer_id);

-- bad
CREATE TABLE this_is_a_really_long_table_name_that_goes_past_the_postgres_limit_x (id bigint);

-- ok
CREATE INDEX orders_customer_created_idx ON orders (customer_id, created_at);
