-- bad
ALTER TABLE events ADD COLUMN payload json;

-- bad
CREATE TABLE webhooks (id bigint, body json NOT NULL);

-- ok
ALTER TABLE events ADD COLUMN payload jsonb;
