-- expect: refresh-matview-non-concurrent
REFRESH MATERIALIZED VIEW sales_by_day;
