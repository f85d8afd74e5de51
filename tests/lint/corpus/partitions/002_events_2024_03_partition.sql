-- expect: missing-lock-timeout, create-partition-of
-- runner: psql
-- CREATE TABLE ... PARTITION OF takes ACCESS EXCLUSIVE on the existing parent.
CREATE TABLE IF NOT EXISTS events_2024_04 PARTITION OF events
    FOR VALUES FROM ('2024-04-01') TO ('2024-05-01');
