-- expect: missing-lock-timeout
-- runner: psql
-- CREATE POLICY takes ACCESS EXCLUSIVE on the table (policy.c): todos already exists.
create policy "Owners can read their todos" on public.todos
  for select to authenticated
  using ((select auth.uid()) = user_id);
