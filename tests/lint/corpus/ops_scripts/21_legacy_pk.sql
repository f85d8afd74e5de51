-- expect: add-primary-key-without-index
-- runner: psql
SET lock_timeout = '2s';
ALTER TABLE legacy_import ADD PRIMARY KEY (import_id);
