-- expect: none
-- replacing a view, granting and commenting are not table changes
CREATE OR REPLACE VIEW recent_sales AS
SELECT * FROM sales WHERE created_at > now() - interval '14 days';
COMMENT ON VIEW recent_sales IS 'Last two weeks';
GRANT SELECT ON recent_sales TO analyst;
