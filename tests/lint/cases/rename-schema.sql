-- bad
ALTER SCHEMA reporting RENAME TO analytics;

-- ok
CREATE SCHEMA staging_v2;
ALTER SCHEMA staging_v2 RENAME TO staging;

-- ok
ALTER SCHEMA reporting OWNER TO analyst;
