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
