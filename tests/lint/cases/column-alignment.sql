-- bad
CREATE TABLE events (active boolean, id bigint, kind int, created_at timestamptz);

-- ok
CREATE TABLE events (id bigint, created_at timestamptz, kind int, active boolean, note text);
