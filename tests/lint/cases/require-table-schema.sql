-- bad
CREATE TABLE notes (id bigint);

-- bad
ALTER TABLE users ADD COLUMN a int;

-- ok
CREATE TABLE public.notes (id bigint);

-- bad
SET search_path TO billing;
CREATE TABLE notes (id bigint);
