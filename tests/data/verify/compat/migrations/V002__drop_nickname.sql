ALTER TABLE users DROP COLUMN nickname;

-- pgshift:down
ALTER TABLE users ADD COLUMN nickname text;
