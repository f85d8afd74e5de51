-- expect: alter-column-type-rewrite
-- email is indexed (users_email_idx): the index is rebuilt under ACCESS EXCLUSIVE.
ALTER TABLE users ALTER COLUMN email TYPE citext;
