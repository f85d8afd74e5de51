-- expect: attach-partition-without-check
-- runner: psql
SET lock_timeout = '5s';
-- events_import_2024_03 was created and loaded earlier: attaching it scans every row under
-- ACCESS EXCLUSIVE on the partition, because no CHECK proves the bounds.
ALTER TABLE events ATTACH PARTITION events_import_2024_03
    FOR VALUES FROM ('2024-03-01') TO ('2024-04-01');
