-- expect: vacuum-full-or-cluster, missing-lock-timeout
-- runner: psql
CLUSTER orders USING orders_created_at_idx;
