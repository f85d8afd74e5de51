-- bad
ALTER TABLE users ALTER COLUMN status SET DEFAULT 'active';

-- bad
ALTER TABLE users ALTER COLUMN status DROP DEFAULT;

-- ok
ALTER TABLE users ADD COLUMN tier text;
ALTER TABLE users ALTER COLUMN tier SET DEFAULT 'free';
