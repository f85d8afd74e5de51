-- expect: concurrently-in-transaction
DROP INDEX CONCURRENTLY IF EXISTS users_email_key_idx;
