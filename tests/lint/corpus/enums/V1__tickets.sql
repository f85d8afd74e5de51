-- expect: none
CREATE TYPE ticket_state AS ENUM ('open', 'pending', 'closed');
CREATE TABLE tickets (
    id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    state ticket_state NOT NULL DEFAULT 'open',
    priority text NOT NULL DEFAULT 'normal'
);
