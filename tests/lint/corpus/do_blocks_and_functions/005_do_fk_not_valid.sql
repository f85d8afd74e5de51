-- expect: none
-- runner: psql
SET lock_timeout = '3s';
DO $$
BEGIN
    ALTER TABLE transfers ADD CONSTRAINT transfers_from_id_fkey
        FOREIGN KEY (from_id) REFERENCES accounts (id) NOT VALID;
EXCEPTION
    WHEN duplicate_object THEN NULL;
END
$$;
