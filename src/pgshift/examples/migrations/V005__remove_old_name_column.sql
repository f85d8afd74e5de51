-- Renaming a column, step 3 (contract, next deployment): every app instance now uses
-- display_name, so the old column and the sync trigger can go.
-- pgshift:phase contract
DROP TRIGGER users_sync_display_name ON users;
DROP FUNCTION users_sync_display_name();
-- pgshift:ignore drop-column -- the app stopped reading old_name in the previous deployment
ALTER TABLE users DROP COLUMN old_name;

-- pgshift:down
ALTER TABLE users ADD COLUMN old_name varchar(100);
UPDATE users SET old_name = display_name;
CREATE FUNCTION users_sync_display_name() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF NEW.display_name IS NULL THEN
        NEW.display_name := NEW.old_name;
    ELSIF NEW.old_name IS NULL OR NEW.old_name IS DISTINCT FROM NEW.display_name THEN
        NEW.old_name := NEW.display_name;
    END IF;
    RETURN NEW;
END $$;
CREATE TRIGGER users_sync_display_name BEFORE INSERT OR UPDATE ON users
    FOR EACH ROW EXECUTE FUNCTION users_sync_display_name();
