-- expect: none
-- runner: psql
SET lock_timeout = '10s';
REFRESH MATERIALIZED VIEW CONCURRENTLY daily_revenue;
