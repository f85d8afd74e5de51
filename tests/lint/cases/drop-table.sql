-- bad
DROP TABLE legacy_sessions;

-- bad
DROP TABLE IF EXISTS old_audit_log CASCADE;

-- bad
DROP TABLE a, b;

-- ok
CREATE TABLE tmp_import (id bigint, payload jsonb);
DROP TABLE tmp_import;

-- ok
DROP VIEW IF EXISTS active_users;

-- ok
DROP INDEX CONCURRENTLY IF EXISTS users_old_idx;

-- ok
-- runner: psql
-- migrate:up
CREATE TABLE invites (id bigserial PRIMARY KEY, email text NOT NULL);
-- migrate:down
DROP TABLE invites;

-- ok
-- +goose Up
CREATE TABLE invites (id bigserial PRIMARY KEY, email text NOT NULL);
-- +goose Down
DROP TABLE IF EXISTS invites;

-- ok
CREATE TABLE invites (id bigserial PRIMARY KEY, email text NOT NULL);
-- pgshift:down
DROP TABLE invites;

-- bad
-- runner: psql
-- +migrate Up
DROP TABLE legacy_invites;
-- +migrate Down
CREATE TABLE legacy_invites (id bigint);

-- ok
-- runner: psql
-- Up Migration
CREATE TABLE projects (id uuid PRIMARY KEY, name text NOT NULL);
-- Down Migration
DROP TABLE projects;

-- bad
-- runner: psql
-- Up Migration
DROP TABLE legacy_projects;
-- Down Migration
CREATE TABLE legacy_projects (id uuid PRIMARY KEY);

-- bad
-- runner: psql
-- a plain file whose comment mentions the down migration is linted whole
CREATE TABLE archive_note (id int);
-- down migration: none needed
DROP TABLE legacy_notes;

-- bad
CREATE TABLE audit.sessions (id bigint);
DROP TABLE public.sessions;

-- bad
CREATE TABLE archive.events (id bigint);
DROP TABLE events;

-- ok
-- runner: psql
SET search_path TO billing;
CREATE TABLE invoices_staging (id bigint);
DROP TABLE invoices_staging;

-- bad
-- runner: psql
CREATE TABLE invoices_staging (id bigint);
SET search_path TO billing;
DROP TABLE invoices_staging;
