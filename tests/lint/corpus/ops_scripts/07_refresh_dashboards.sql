-- expect: refresh-matview-non-concurrent, missing-lock-timeout
-- runner: psql
REFRESH MATERIALIZED VIEW daily_revenue;
