-- expect: add-column-volatile-default
-- pg-version: 10
-- Before PostgreSQL 11 any DEFAULT on ADD COLUMN rewrites the whole table.
ALTER TABLE members ADD COLUMN active boolean NOT NULL DEFAULT true;
