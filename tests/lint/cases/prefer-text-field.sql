-- bad
ALTER TABLE users ADD COLUMN timezone VARCHAR(50);

-- ok
ALTER TABLE users ADD COLUMN timezone text;

-- ok
ALTER TABLE users ADD COLUMN nickname varchar;
