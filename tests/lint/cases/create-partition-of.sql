-- bad
CREATE TABLE events_2025_02 PARTITION OF events FOR VALUES FROM ('2025-02-01') TO ('2025-03-01');

-- bad
-- pg-version: 11
CREATE TABLE events_default PARTITION OF events DEFAULT;

-- ok
CREATE TABLE events_2025_02 (LIKE events INCLUDING ALL);
ALTER TABLE events ATTACH PARTITION events_2025_02 FOR VALUES FROM ('2025-02-01') TO ('2025-03-01');

-- ok
CREATE TABLE logs (at timestamptz) PARTITION BY RANGE (at);
CREATE TABLE logs_2024 PARTITION OF logs FOR VALUES FROM ('2024-01-01') TO ('2025-01-01');

-- bad
-- schema: CREATE TABLE events (id bigint, at timestamptz) PARTITION BY RANGE (at);
-- schema: CREATE TABLE events_rest PARTITION OF events DEFAULT;
-- the DEFAULT partition is scanned for rows of the new bounds, too
CREATE TABLE events_2026 PARTITION OF events FOR VALUES FROM ('2026-01-01') TO ('2027-01-01');
