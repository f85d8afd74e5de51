-- Renaming a column, step 1 (expand): add the new column and keep both in sync while the old
-- and the new app version run side by side.
-- pgshift:phase expand
ALTER TABLE users ADD COLUMN display_name varchar(100);

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

UPDATE users SET display_name = old_name WHERE display_name IS NULL;

-- pgshift:down
DROP TRIGGER users_sync_display_name ON users;
DROP FUNCTION users_sync_display_name();
ALTER TABLE users DROP COLUMN display_name;
