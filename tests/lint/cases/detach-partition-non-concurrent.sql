-- bad
ALTER TABLE measurements DETACH PARTITION measurements_2020;

-- bad
-- pg-version: 13
ALTER TABLE measurements DETACH PARTITION measurements_2020;

-- ok
-- pgshift:no-transaction
ALTER TABLE measurements DETACH PARTITION measurements_2020 CONCURRENTLY;

-- ok
CREATE TABLE logs (at timestamptz) PARTITION BY RANGE (at);
CREATE TABLE logs_2024 PARTITION OF logs FOR VALUES FROM ('2024-01-01') TO ('2025-01-01');
ALTER TABLE logs DETACH PARTITION logs_2024;

-- bad
-- pg-version: 13
-- pgshift:no-transaction
ALTER TABLE events DETACH PARTITION events_2019 CONCURRENTLY;

-- bad
-- schema: CREATE TABLE events (id bigint, at timestamptz) PARTITION BY RANGE (at);
-- schema: CREATE TABLE events_2019 PARTITION OF events FOR VALUES FROM ('2019-01-01') TO ('2020-01-01');
-- schema: CREATE TABLE events_rest PARTITION OF events DEFAULT;
-- pgshift:no-transaction
ALTER TABLE events DETACH PARTITION events_2019 CONCURRENTLY;

-- ok
-- schema: CREATE TABLE events (id bigint, at timestamptz) PARTITION BY RANGE (at);
-- schema: CREATE TABLE events_2019 PARTITION OF events FOR VALUES FROM ('2019-01-01') TO ('2020-01-01');
-- pgshift:no-transaction
ALTER TABLE events DETACH PARTITION events_2019 CONCURRENTLY;
