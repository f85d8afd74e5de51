-- bad
CREATE TABLE posts (id serial PRIMARY KEY, title text);

-- bad
ALTER TABLE posts ADD COLUMN view_count integer;

-- ok
CREATE TABLE posts (id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY, title text);
