-- expect: none
ALTER INDEX users_email_idx RENAME TO users_email_key_idx;
ALTER TABLE audit RENAME CONSTRAINT audit_pkey TO audit_id_pkey;
COMMENT ON INDEX users_email_key_idx IS 'login lookup';
ALTER TABLE users ALTER COLUMN score SET STATISTICS 500;
ANALYZE users;
