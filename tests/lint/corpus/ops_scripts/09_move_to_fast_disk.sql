-- expect: alter-table-rewrite-option
-- runner: psql
SET lock_timeout = '2s';
ALTER TABLE metrics_raw SET TABLESPACE fast_ssd;
