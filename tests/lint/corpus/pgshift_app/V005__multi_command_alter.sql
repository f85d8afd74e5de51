-- expect: set-not-null-without-check
ALTER TABLE users
    ADD COLUMN bio text,
    ALTER COLUMN handle SET NOT NULL;
