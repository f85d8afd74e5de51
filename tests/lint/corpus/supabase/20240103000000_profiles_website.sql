-- expect: none
-- runner: psql
set lock_timeout = '3s';
alter table public.profiles add column website text;
alter table public.profiles add column full_name text default '' not null;
create policy "Users can update own profile." on profiles
  for update using ((select auth.uid()) = id);
