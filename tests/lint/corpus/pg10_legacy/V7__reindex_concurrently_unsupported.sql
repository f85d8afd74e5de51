-- expect: reindex-non-concurrent
-- pg-version: 10
REINDEX INDEX members_pkey;
