-- bad
CREATE TABLE events (id bigint, happened_at timestamp NOT NULL);

-- bad
ALTER TABLE events ALTER COLUMN happened_at TYPE timestamp(3);

-- ok
CREATE TABLE events (id bigint, happened_at timestamptz NOT NULL);
