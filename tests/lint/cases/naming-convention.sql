-- bad
CREATE TABLE "UserAccounts" (id bigint);

-- bad
ALTER TABLE users ADD COLUMN "firstName" text;

-- ok
CREATE TABLE user_accounts (id bigint, first_name text);
