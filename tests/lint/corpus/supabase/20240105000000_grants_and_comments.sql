-- expect: none
-- runner: psql
revoke all on public.profiles from anon;
grant select, update (username, avatar_url, website) on public.profiles to authenticated;
alter default privileges in schema public grant select on tables to authenticated;
comment on table public.profiles is 'User profile data';
comment on column public.profiles.website is 'Personal site';
create or replace function public.touch_updated_at() returns trigger language plpgsql as $$
begin
  new.updated_at := now();
  return new;
end $$;
