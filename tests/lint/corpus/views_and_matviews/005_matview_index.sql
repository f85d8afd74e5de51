-- expect: create-index-non-concurrent
CREATE INDEX sales_by_day_total_idx ON sales_by_day (total);
