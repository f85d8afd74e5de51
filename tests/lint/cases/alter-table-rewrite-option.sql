-- bad
ALTER TABLE events SET TABLESPACE fast_ssd;

-- bad
ALTER TABLE staging_rows SET LOGGED;

-- bad
ALTER TABLE cache_entries SET UNLOGGED;

-- bad
ALTER TABLE events SET ACCESS METHOD heap2;

-- bad
ALTER INDEX events_pkey SET TABLESPACE fast_ssd;

-- bad
ALTER TABLE ALL IN TABLESPACE old_disk SET TABLESPACE new_disk;

-- ok
CREATE UNLOGGED TABLE import_buffer (line text);
ALTER TABLE import_buffer SET LOGGED;

-- ok
ALTER TABLE events SET (fillfactor = 90);
