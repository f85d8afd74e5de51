ALTER TABLE users ADD COLUMN nickname text;

-- pgshift:down
ALTER TABLE users DROP COLUMN nickname;
