-- Adding a column (safe): nullable, no volatile default, so no table rewrite.
ALTER TABLE users ADD COLUMN timezone varchar(50);

-- pgshift:down
ALTER TABLE users DROP COLUMN timezone;
