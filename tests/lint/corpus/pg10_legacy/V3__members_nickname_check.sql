-- expect: none
-- pg-version: 10
ALTER TABLE members ADD CONSTRAINT members_nickname_nn CHECK (nickname IS NOT NULL) NOT VALID;
