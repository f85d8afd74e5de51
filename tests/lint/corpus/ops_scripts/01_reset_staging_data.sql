-- expect: truncate-cascade, missing-lock-timeout
-- runner: psql
TRUNCATE TABLE sessions, login_attempts RESTART IDENTITY CASCADE;
