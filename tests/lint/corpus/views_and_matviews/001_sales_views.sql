-- expect: none
CREATE MATERIALIZED VIEW sales_by_day AS
SELECT date_trunc('day', created_at) AS day, sum(total) AS total
FROM sales GROUP BY 1
WITH NO DATA;
CREATE UNIQUE INDEX sales_by_day_day_idx ON sales_by_day (day);
-- the materialized view is new: filling it blocks nobody
REFRESH MATERIALIZED VIEW sales_by_day;
CREATE VIEW recent_sales AS SELECT * FROM sales WHERE created_at > now() - interval '7 days';
