-- Changing a column's type (safe pattern), step 1: a new column of the new type, filled for
-- new rows by a default and for existing rows by a backfill. The app moves to id_new in the
-- next deployment; a later migration drops the old column.
ALTER TABLE users ADD COLUMN id_new uuid;
ALTER TABLE users ALTER COLUMN id_new SET DEFAULT gen_random_uuid();
UPDATE users SET id_new = gen_random_uuid() WHERE id_new IS NULL;

-- pgshift:down
ALTER TABLE users DROP COLUMN id_new;
