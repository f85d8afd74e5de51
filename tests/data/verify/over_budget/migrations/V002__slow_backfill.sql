-- pgshift:timeout 300ms
ALTER TABLE users ADD COLUMN score integer;
SELECT pg_sleep(0.6);

-- pgshift:down
ALTER TABLE users DROP COLUMN score;
