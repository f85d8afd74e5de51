-- expect: none
CREATE TABLE ticket_events (id bigint PRIMARY KEY, kind text NOT NULL);
CREATE TYPE ticket_event_kind AS ENUM ('created', 'commented');
-- ticket_events is new: converting its column rewrites nothing anyone uses.
ALTER TABLE ticket_events ALTER COLUMN kind TYPE ticket_event_kind USING kind::ticket_event_kind;
CREATE INDEX ticket_events_kind_idx ON ticket_events (kind);
