-- expect: missing-lock-timeout
-- runner: psql
-- CREATE TRIGGER takes SHARE ROW EXCLUSIVE on auth.users, an existing, busy table.
create trigger on_auth_user_created
  after insert on auth.users
  for each row execute procedure public.handle_new_user();
