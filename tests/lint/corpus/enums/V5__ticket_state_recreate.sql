-- expect: alter-column-type-rewrite
-- Removing an enum value means a new type: the column is converted row by row.
ALTER TYPE ticket_state RENAME TO ticket_state_old;
CREATE TYPE ticket_state AS ENUM ('open', 'pending', 'on_hold', 'resolved');
ALTER TABLE tickets ALTER COLUMN state DROP DEFAULT;
ALTER TABLE tickets ALTER COLUMN state TYPE ticket_state USING state::text::ticket_state;
ALTER TABLE tickets ALTER COLUMN state SET DEFAULT 'open';
DROP TYPE ticket_state_old;
