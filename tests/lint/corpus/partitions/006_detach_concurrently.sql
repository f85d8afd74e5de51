-- expect: none
-- runner: psql
-- PostgreSQL 14+: no ACCESS EXCLUSIVE on the parent; must run outside a transaction block.
ALTER TABLE events DETACH PARTITION events_2024_02 CONCURRENTLY;
