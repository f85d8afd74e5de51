-- expect: missing-lock-timeout
-- runner: psql
-- REFERENCES auth.users: SHARE ROW EXCLUSIVE on an existing table, with no lock_timeout.
create table public.profiles (
  id uuid not null references auth.users on delete cascade,
  username text unique,
  avatar_url text,
  updated_at timestamp with time zone,
  primary key (id),
  constraint username_length check (char_length(username) >= 3)
);

alter table public.profiles enable row level security;

create policy "Public profiles are viewable by everyone." on profiles
  for select using (true);

create policy "Users can insert their own profile." on profiles
  for insert with check ((select auth.uid()) = id);

create function public.handle_new_user()
returns trigger
language plpgsql
security definer set search_path = ''
as $$
begin
  insert into public.profiles (id, username)
  values (new.id, new.raw_user_meta_data->>'username');
  update public.profiles set updated_at = now();
  return new;
end;
$$;

grant select on public.profiles to anon, authenticated;
