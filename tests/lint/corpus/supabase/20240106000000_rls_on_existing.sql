-- expect: missing-lock-timeout
-- runner: psql
-- ENABLE ROW LEVEL SECURITY is an ALTER TABLE: ACCESS EXCLUSIVE on an existing table.
alter table public.todos enable row level security;
