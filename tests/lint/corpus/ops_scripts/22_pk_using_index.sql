-- expect: none
-- runner: psql
SET lock_timeout = '2s';
-- the unique index was built CONCURRENTLY beforehand and import_ref is already NOT NULL.
ALTER TABLE legacy_refs ADD CONSTRAINT legacy_refs_pkey PRIMARY KEY USING INDEX legacy_refs_ref_idx;
