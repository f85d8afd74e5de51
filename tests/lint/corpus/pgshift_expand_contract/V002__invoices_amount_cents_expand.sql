-- expect: none
-- pgshift:phase expand
ALTER TABLE invoices ADD COLUMN amount_cents bigint;

CREATE FUNCTION invoices_sync_amount() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  NEW.amount_cents := NEW.amount::bigint * 100;
  RETURN NEW;
END
$$;

-- pgshift runs this with lock_timeout set: the SHARE ROW EXCLUSIVE wait is bounded.
CREATE TRIGGER invoices_sync_amount BEFORE INSERT OR UPDATE ON invoices
    FOR EACH ROW EXECUTE FUNCTION invoices_sync_amount();

-- pgshift:down
DROP TRIGGER invoices_sync_amount ON invoices;
DROP FUNCTION invoices_sync_amount();
ALTER TABLE invoices DROP COLUMN amount_cents;
