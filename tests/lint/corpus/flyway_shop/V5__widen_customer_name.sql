-- expect: none
-- runner: psql
SET lock_timeout = '2s';
-- varchar(100) -> varchar(200) and varchar -> text are binary-coercible: no rewrite.
ALTER TABLE shop.customers ALTER COLUMN full_name TYPE varchar(200);
ALTER TABLE shop.customers ALTER COLUMN fax TYPE text;
