-- expect: reindex-non-concurrent, missing-lock-timeout
-- runner: psql
REINDEX TABLE public.audit_log;
