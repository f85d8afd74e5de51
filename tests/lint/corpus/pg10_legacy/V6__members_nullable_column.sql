-- expect: none
-- pg-version: 10
ALTER TABLE members ADD COLUMN bio text;
