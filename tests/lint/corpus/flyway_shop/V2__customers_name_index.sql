-- expect: create-index-non-concurrent, missing-lock-timeout
-- runner: psql
-- customers was created by V1: it is an existing table now, the build blocks writes.
CREATE INDEX customers_full_name_idx ON shop.customers (full_name);
