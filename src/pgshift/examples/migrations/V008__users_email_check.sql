-- Adding a constraint safely, step 1: NOT VALID checks new rows only and scans nothing.
ALTER TABLE users
    ADD CONSTRAINT users_email_check
    CHECK (email ~* '^[A-Za-z0-9._%+-]+@[A-Za-z0-9.-]+\.[A-Za-z]{2,}$')
    NOT VALID;

-- pgshift:down
ALTER TABLE users DROP CONSTRAINT users_email_check;
