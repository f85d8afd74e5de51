-- expect: alter-column-type-rewrite
CREATE TYPE ticket_priority AS ENUM ('low', 'normal', 'high');
ALTER TABLE tickets ALTER COLUMN priority DROP DEFAULT;
ALTER TABLE tickets ALTER COLUMN priority TYPE ticket_priority USING priority::ticket_priority;
ALTER TABLE tickets ALTER COLUMN priority SET DEFAULT 'normal';
