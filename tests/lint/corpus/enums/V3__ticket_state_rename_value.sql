-- expect: rename-enum-value
ALTER TYPE ticket_state RENAME VALUE 'closed' TO 'resolved';
