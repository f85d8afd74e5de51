-- expect: create-index-non-concurrent, missing-lock-timeout
-- runner: psql
create index profiles_updated_at_idx on public.profiles using btree (updated_at desc);
