-- expect: none
-- runner: psql
REINDEX INDEX CONCURRENTLY users_email_uniq;
