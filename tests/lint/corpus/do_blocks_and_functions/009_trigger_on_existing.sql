-- expect: none
-- runner: psql
SET lock_timeout = '2s';
CREATE OR REPLACE FUNCTION transfers_audit() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    INSERT INTO transfer_audit (transfer_id, at) VALUES (NEW.id, now());
    RETURN NEW;
END $$;
CREATE TRIGGER transfers_audit AFTER INSERT ON transfers
    FOR EACH ROW EXECUTE FUNCTION transfers_audit();
