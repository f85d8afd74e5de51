-- expect: none
-- runner: psql
-- storage parameters take SHARE UPDATE EXCLUSIVE and rewrite nothing.
ALTER TABLE metrics_raw SET (fillfactor = 80, autovacuum_vacuum_scale_factor = 0.01);
ALTER TABLE metrics_raw ALTER COLUMN value SET STATISTICS 1000;
VACUUM (ANALYZE) metrics_raw;
