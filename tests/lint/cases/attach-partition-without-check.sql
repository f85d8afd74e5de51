-- bad
ALTER TABLE measurements ATTACH PARTITION measurements_2024 FOR VALUES FROM ('2024-01-01') TO ('2025-01-01');

-- bad
-- schema: CREATE TABLE measurements (id bigint, taken_at timestamptz) PARTITION BY RANGE (taken_at);
-- schema: CREATE TABLE measurements_old (id bigint, taken_at timestamptz);
ALTER TABLE measurements ATTACH PARTITION measurements_old DEFAULT;

-- bad
-- schema: CREATE TABLE measurements (id bigint, taken_at timestamptz) PARTITION BY RANGE (taken_at);
-- schema: CREATE TABLE measurements_2024 (id bigint, taken_at timestamptz);
ALTER TABLE measurements_2024 ADD CONSTRAINT m2024_bounds CHECK (taken_at >= '2024-01-01' AND taken_at < '2025-01-01') NOT VALID;
ALTER TABLE measurements ATTACH PARTITION measurements_2024 FOR VALUES FROM ('2024-01-01') TO ('2025-01-01');

-- ok
-- schema: CREATE TABLE measurements (id bigint, taken_at timestamptz) PARTITION BY RANGE (taken_at);
-- schema: CREATE TABLE measurements_2024 (id bigint, taken_at timestamptz);
-- schema: ALTER TABLE measurements_2024 ADD CONSTRAINT m2024_bounds CHECK (taken_at >= '2024-01-01' AND taken_at < '2025-01-01') NOT VALID;
-- schema: ALTER TABLE measurements_2024 VALIDATE CONSTRAINT m2024_bounds;
ALTER TABLE measurements ATTACH PARTITION measurements_2024 FOR VALUES FROM ('2024-01-01') TO ('2025-01-01');
ALTER TABLE measurements_2024 DROP CONSTRAINT m2024_bounds;

-- ok
-- pgshift:no-transaction
ALTER TABLE measurements_2024 ADD CONSTRAINT m2024_bounds CHECK (taken_at >= '2024-01-01' AND taken_at < '2025-01-01') NOT VALID;
ALTER TABLE measurements_2024 VALIDATE CONSTRAINT m2024_bounds;
ALTER TABLE measurements ATTACH PARTITION measurements_2024 FOR VALUES FROM ('2024-01-01') TO ('2025-01-01');

-- ok
CREATE TABLE measurements_2025 (LIKE measurements INCLUDING DEFAULTS);
ALTER TABLE measurements ATTACH PARTITION measurements_2025 FOR VALUES FROM ('2025-01-01') TO ('2026-01-01');

-- ok
ALTER INDEX events_at_idx ATTACH PARTITION events_2025_at_idx;
