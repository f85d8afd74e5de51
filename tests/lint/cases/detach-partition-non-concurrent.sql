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
