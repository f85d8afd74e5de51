-- expect: none
-- runner: psql
BEGIN;
CREATE TABLE order_notes (id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY, order_id bigint NOT NULL, body text);
CREATE INDEX order_notes_order_id_idx ON order_notes (order_id);
ALTER TABLE order_notes ALTER COLUMN body SET NOT NULL;
ALTER TABLE order_notes ADD CONSTRAINT order_notes_body_len CHECK (length(body) < 10000);
COMMIT;
