-- bad
-- pgshift:no-transaction
VACUUM FULL orders;

-- bad
-- pgshift:no-transaction
VACUUM (FULL, ANALYZE) events;

-- bad
CLUSTER orders USING orders_created_at_idx;

-- bad
-- runner: psql
CLUSTER;

-- bad
-- pg-version: 19
CLUSTER orders USING orders_pkey;

-- ok
-- pgshift:no-transaction
VACUUM ANALYZE orders;

-- ok
ANALYZE orders;

-- ok
CREATE TABLE scratch (id bigint);
CREATE INDEX scratch_id ON scratch (id);
CLUSTER scratch USING scratch_id;

-- ok
-- pgshift:no-transaction
VACUUM (FULL false, ANALYZE) orders;
