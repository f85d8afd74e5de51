-- Up Migration
-- expect: none
-- runner: psql
-- node-pg-migrate runs the up part in a transaction; the down part never runs on deploy.
CREATE TABLE projects (
  id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
  name text NOT NULL,
  owner_id uuid NOT NULL,
  archived boolean NOT NULL DEFAULT false
);
CREATE INDEX projects_owner_id_index ON projects (owner_id);

-- Down Migration
DROP INDEX projects_owner_id_index;
DROP TABLE projects;
