-- expect: none
-- pg-version: 10
ALTER TABLE members VALIDATE CONSTRAINT members_nickname_nn;
