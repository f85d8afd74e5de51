-- bad
ALTER TABLE events ADD PRIMARY KEY (id);

-- bad
ALTER TABLE events ADD CONSTRAINT events_pkey PRIMARY KEY (id);

-- bad
ALTER TABLE legacy ADD COLUMN id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY;

-- ok
ALTER TABLE events ADD CONSTRAINT events_pkey PRIMARY KEY USING INDEX events_id_idx;

-- ok
CREATE TABLE mappings (a bigint, b bigint);
ALTER TABLE mappings ADD PRIMARY KEY (a, b);

-- ok
CREATE TABLE tokens (id uuid PRIMARY KEY);
