-- expect: none
-- pgshift:no-transaction
REFRESH MATERIALIZED VIEW CONCURRENTLY sales_by_day;
