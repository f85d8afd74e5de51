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

-- bad
-- schema: CREATE TABLE measurements (id bigint, taken_at timestamptz) PARTITION BY RANGE (taken_at);
-- schema: CREATE TABLE measurements_2024 (id bigint, taken_at timestamptz);
-- schema: ALTER TABLE measurements_2024 ADD CONSTRAINT m2024_bounds CHECK (taken_at >= '2024-01-01' AND taken_at < '2025-01-01') NOT VALID;
-- schema: ALTER TABLE measurements_2024 VALIDATE CONSTRAINT m2024_bounds;
-- A CHECK passes on NULL: without IS NOT NULL (or a NOT NULL column) it does not imply the
-- partition constraint, and PostgreSQL scans.
ALTER TABLE measurements ATTACH PARTITION measurements_2024 FOR VALUES FROM ('2024-01-01') TO ('2025-01-01');

-- ok
-- schema: CREATE TABLE measurements (id bigint, taken_at timestamptz) PARTITION BY RANGE (taken_at);
-- schema: CREATE TABLE measurements_2024 (id bigint, taken_at timestamptz);
-- schema: ALTER TABLE measurements_2024 ADD CONSTRAINT m2024_bounds CHECK (taken_at IS NOT NULL AND taken_at >= '2024-01-01' AND taken_at < '2025-01-01') NOT VALID;
-- schema: ALTER TABLE measurements_2024 VALIDATE CONSTRAINT m2024_bounds;
ALTER TABLE measurements ATTACH PARTITION measurements_2024 FOR VALUES FROM ('2024-01-01') TO ('2025-01-01');
ALTER TABLE measurements_2024 DROP CONSTRAINT m2024_bounds;

-- ok
-- schema: CREATE TABLE measurements (id bigint, taken_at timestamptz NOT NULL) PARTITION BY RANGE (taken_at);
-- schema: CREATE TABLE measurements_2024 (id bigint, taken_at timestamptz NOT NULL);
-- schema: ALTER TABLE measurements_2024 ADD CONSTRAINT m2024_bounds CHECK (taken_at >= '2024-01-01' AND taken_at < '2025-01-01') NOT VALID;
-- schema: ALTER TABLE measurements_2024 VALIDATE CONSTRAINT m2024_bounds;
-- The key column is NOT NULL: the CHECK need not say it.
ALTER TABLE measurements ATTACH PARTITION measurements_2024 FOR VALUES FROM ('2024-01-01') TO ('2025-01-01');

-- bad
-- schema: CREATE TABLE measurements_2024 (id bigint, taken_at timestamptz);
-- schema: ALTER TABLE measurements_2024 ADD CONSTRAINT m2024_bounds CHECK (taken_at IS NOT NULL AND taken_at >= '2023-01-01' AND taken_at < '2024-01-01') NOT VALID;
-- schema: ALTER TABLE measurements_2024 VALIDATE CONSTRAINT m2024_bounds;
-- The parent is unknown and the CHECK matches other bounds than the ATTACH's.
ALTER TABLE measurements ATTACH PARTITION measurements_2024 FOR VALUES FROM ('2024-01-01') TO ('2025-01-01');

-- bad
-- schema: CREATE TABLE measurements_2024 (id bigint, taken_at timestamptz, amount int);
-- schema: ALTER TABLE measurements_2024 ADD CONSTRAINT positive CHECK (amount > 0);
-- The parent is unknown and the CHECK is about another matter entirely.
ALTER TABLE measurements ATTACH PARTITION measurements_2024 FOR VALUES FROM ('2024-01-01') TO ('2025-01-01');

-- bad
-- schema: CREATE TABLE measurements_2024 (id bigint, taken_at timestamptz NOT NULL);
-- schema: ALTER TABLE measurements_2024 ADD CONSTRAINT m2024_bounds CHECK (taken_at >= '2024-01-01' AND taken_at <= '2025-01-01');
-- The CHECK covers the upper bound itself (<=): a row at '2025-01-01' fits the CHECK, not
-- the partition.
ALTER TABLE measurements ATTACH PARTITION measurements_2024 FOR VALUES FROM ('2024-01-01') TO ('2025-01-01');

-- bad
-- schema: CREATE TABLE measurements (id bigint NOT NULL, taken_at timestamptz NOT NULL) PARTITION BY RANGE (taken_at);
-- schema: CREATE TABLE measurements_2024 (id bigint NOT NULL, taken_at timestamptz NOT NULL);
-- schema: ALTER TABLE measurements_2024 ADD CONSTRAINT ids CHECK (id >= 0 AND id < 1000);
-- The CHECK is on another column than the parent's partition key.
ALTER TABLE measurements ATTACH PARTITION measurements_2024 FOR VALUES FROM (0) TO (1000);

-- ok
-- pgshift:no-transaction
ALTER TABLE measurements_2024 ADD CONSTRAINT m2024_bounds CHECK (taken_at IS NOT NULL AND taken_at >= '2024-01-01' AND taken_at < '2025-01-01') NOT VALID;
ALTER TABLE measurements_2024 VALIDATE CONSTRAINT m2024_bounds;
ALTER TABLE measurements ATTACH PARTITION measurements_2024 FOR VALUES FROM ('2024-01-01') TO ('2025-01-01');

-- bad
-- pgshift:no-transaction
ALTER TABLE measurements_2024 ADD CONSTRAINT m2024_bounds CHECK (taken_at IS NOT NULL AND taken_at >= '2024-01-01' AND taken_at < '2025-01-01') NOT VALID;
ALTER TABLE measurements ATTACH PARTITION measurements_2024 FOR VALUES FROM ('2024-01-01') TO ('2025-01-01');

-- ok
-- schema: CREATE TABLE readings (n int) PARTITION BY RANGE (n);
-- schema: CREATE TABLE readings_a (n int NOT NULL);
-- schema: ALTER TABLE readings_a ADD CONSTRAINT a CHECK (n BETWEEN 0 AND 9);
-- schema: CREATE TABLE readings_b (n int);
-- schema: ALTER TABLE readings_b ADD CONSTRAINT b CHECK (n IS NOT NULL AND 20 <= n AND n < 25);
-- schema: CREATE TABLE readings_c (n int PRIMARY KEY);
-- schema: ALTER TABLE readings_c ADD CONSTRAINT c CHECK (n IN (50, 60));
-- schema: CREATE TABLE readings_d (n int NOT NULL);
-- schema: ALTER TABLE readings_d ADD CONSTRAINT d CHECK (n >= 100);
-- A narrower range implies the bounds; so do BETWEEN on integers and an IN list inside them.
ALTER TABLE readings ATTACH PARTITION readings_a FOR VALUES FROM (0) TO (10);
ALTER TABLE readings ATTACH PARTITION readings_b FOR VALUES FROM (20) TO (30);
ALTER TABLE readings ATTACH PARTITION readings_c FOR VALUES FROM (50) TO (70);
ALTER TABLE readings ATTACH PARTITION readings_d FOR VALUES FROM (100) TO (MAXVALUE);

-- bad
-- schema: CREATE TABLE readings (n int) PARTITION BY RANGE (n);
-- schema: CREATE TABLE readings_e (n int NOT NULL);
-- schema: ALTER TABLE readings_e ADD CONSTRAINT e CHECK (n > 89 AND n < 95);
-- n > 89 does not imply n >= 90 to PostgreSQL: it scans.
ALTER TABLE readings ATTACH PARTITION readings_e FOR VALUES FROM (90) TO (95);

-- bad
-- schema: CREATE TABLE readings (n int) PARTITION BY RANGE (n);
-- schema: CREATE TABLE readings_f (n int NOT NULL);
-- schema: ALTER TABLE readings_f ADD CONSTRAINT f CHECK (n < 100);
ALTER TABLE readings ATTACH PARTITION readings_f FOR VALUES FROM (MINVALUE) TO (0);

-- ok
-- schema: CREATE TABLE orders (id bigint, region text) PARTITION BY LIST (region);
-- schema: CREATE TABLE orders_eu (id bigint, region text);
-- schema: ALTER TABLE orders_eu ADD CONSTRAINT eu CHECK (region IS NOT NULL AND region IN ('de', 'fr'));
-- schema: CREATE TABLE orders_cn (id bigint, region text);
-- schema: ALTER TABLE orders_cn ADD CONSTRAINT cn CHECK (region = 'cn');
-- schema: CREATE TABLE orders_kr (id bigint, region text NOT NULL);
-- schema: ALTER TABLE orders_kr ADD CONSTRAINT kr CHECK (region = ANY (ARRAY['kr', 'jp']));
ALTER TABLE orders ATTACH PARTITION orders_eu FOR VALUES IN ('de', 'fr', 'it');
ALTER TABLE orders ATTACH PARTITION orders_cn FOR VALUES IN ('cn', NULL);
ALTER TABLE orders ATTACH PARTITION orders_kr FOR VALUES IN ('kr', 'jp');

-- bad
-- schema: CREATE TABLE orders (id bigint, region text) PARTITION BY LIST (region);
-- schema: CREATE TABLE orders_jp (id bigint, region text);
-- schema: ALTER TABLE orders_jp ADD CONSTRAINT jp CHECK (region = 'jp');
ALTER TABLE orders ATTACH PARTITION orders_jp FOR VALUES IN ('jp');

-- bad
-- schema: CREATE TABLE orders (id bigint, region text) PARTITION BY LIST (region);
-- schema: CREATE TABLE orders_us (id bigint, region text NOT NULL);
-- schema: ALTER TABLE orders_us ADD CONSTRAINT us CHECK (region IN ('us', 'ca', 'mx'));
ALTER TABLE orders ATTACH PARTITION orders_us FOR VALUES IN ('us', 'ca');

-- bad
-- schema: CREATE TABLE sessions (id bigint NOT NULL) PARTITION BY HASH (id);
-- schema: CREATE TABLE sessions_0 (id bigint NOT NULL);
-- Hash bounds, and a key of several columns, are not compared: always reported.
ALTER TABLE sessions ATTACH PARTITION sessions_0 FOR VALUES WITH (MODULUS 4, REMAINDER 0);

-- bad
-- schema: CREATE TABLE events (at date NOT NULL, kind text NOT NULL) PARTITION BY RANGE (at);
-- schema: CREATE TABLE events_2024 PARTITION OF events FOR VALUES FROM ('2024-01-01') TO ('2025-01-01') PARTITION BY LIST (kind);
-- schema: CREATE TABLE events_2024_click (at date NOT NULL, kind text NOT NULL);
-- schema: ALTER TABLE events_2024_click ADD CONSTRAINT k CHECK (kind = 'click');
-- The parent is itself a partition (of 2024): the CHECK must imply its bounds too.
ALTER TABLE events_2024 ATTACH PARTITION events_2024_click FOR VALUES IN ('click');

-- ok
-- schema: CREATE TABLE events (at date NOT NULL, kind text NOT NULL) PARTITION BY RANGE (at);
-- schema: CREATE TABLE events_2024 PARTITION OF events FOR VALUES FROM ('2024-01-01') TO ('2025-01-01') PARTITION BY LIST (kind);
-- schema: CREATE TABLE events_2024_click (at date NOT NULL, kind text NOT NULL);
-- schema: ALTER TABLE events_2024_click ADD CONSTRAINT k CHECK (kind = 'click' AND at >= '2024-01-01' AND at < '2025-01-01');
ALTER TABLE events_2024 ATTACH PARTITION events_2024_click FOR VALUES IN ('click');

-- bad
-- schema: CREATE TABLE days (d date NOT NULL) PARTITION BY RANGE (d);
-- schema: CREATE TABLE days_2024 (d date NOT NULL);
-- schema: ALTER TABLE days_2024 ADD CONSTRAINT b CHECK (d >= '2024-01-01'::timestamptz AND d < '2025-01-01');
-- A constant cast to another type than the key's makes a cross-type, stable comparison:
-- PostgreSQL does not use it to skip the scan.
ALTER TABLE days ATTACH PARTITION days_2024 FOR VALUES FROM ('2024-01-01') TO ('2025-01-01');

-- ok
-- schema: CREATE TABLE days (d date NOT NULL) PARTITION BY RANGE (d);
-- schema: CREATE TABLE days_2024 (d date NOT NULL);
-- schema: ALTER TABLE days_2024 ADD CONSTRAINT b CHECK (d >= '2024-01-01'::date AND d < DATE '2025-01-01');
ALTER TABLE days ATTACH PARTITION days_2024 FOR VALUES FROM ('2024-01-01') TO ('2025-01-01');

-- ok
-- schema: CREATE TABLE measurements (id bigint, taken_at timestamptz) PARTITION BY RANGE (taken_at);
-- schema: CREATE FOREIGN TABLE measurements_remote (id bigint, taken_at timestamptz) SERVER archive;
ALTER TABLE measurements ATTACH PARTITION measurements_remote FOR VALUES FROM ('2020-01-01') TO ('2021-01-01');

-- ok
CREATE TABLE measurements_2025 (LIKE measurements INCLUDING DEFAULTS);
ALTER TABLE measurements ATTACH PARTITION measurements_2025 FOR VALUES FROM ('2025-01-01') TO ('2026-01-01');

-- ok
ALTER INDEX events_at_idx ATTACH PARTITION events_2025_at_idx;

-- bad
-- schema: CREATE TABLE measurements (id bigint, taken_at timestamptz) PARTITION BY RANGE (taken_at);
-- schema: CREATE TABLE measurements_rest PARTITION OF measurements DEFAULT;
-- A new, empty partition needs no scan of its own, but the DEFAULT partition is scanned for
-- rows of the new bounds.
CREATE TABLE measurements_2026 (LIKE measurements INCLUDING DEFAULTS);
ALTER TABLE measurements ATTACH PARTITION measurements_2026 FOR VALUES FROM ('2026-01-01') TO ('2027-01-01');

-- ok
-- schema: CREATE TABLE measurements (id bigint, taken_at timestamptz) PARTITION BY RANGE (taken_at);
-- schema: CREATE TABLE measurements_rest PARTITION OF measurements DEFAULT;
-- schema: ALTER TABLE measurements DETACH PARTITION measurements_rest;
CREATE TABLE measurements_2026 (LIKE measurements INCLUDING DEFAULTS);
ALTER TABLE measurements ATTACH PARTITION measurements_2026 FOR VALUES FROM ('2026-01-01') TO ('2027-01-01');
