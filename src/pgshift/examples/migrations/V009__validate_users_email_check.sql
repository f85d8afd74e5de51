-- Step 2, in its own transaction: VALIDATE scans under SHARE UPDATE EXCLUSIVE, which lets
-- reads and writes go on (and can be killed and restarted).
ALTER TABLE users VALIDATE CONSTRAINT users_email_check;

-- pgshift:down
ALTER TABLE users DROP CONSTRAINT users_email_check;
ALTER TABLE users
    ADD CONSTRAINT users_email_check
    CHECK (email ~* '^[A-Za-z0-9._%+-]+@[A-Za-z0-9.-]+\.[A-Za-z]{2,}$')
    NOT VALID;
