-- expect: add-unique-constraint-without-index
ALTER TABLE audit ADD CONSTRAINT audit_user_note_key UNIQUE (user_id, note) DEFERRABLE INITIALLY DEFERRED;
