-- expect: add-exclusion-constraint
-- runner: psql
SET lock_timeout = '2s';
ALTER TABLE room_bookings
    ADD CONSTRAINT room_bookings_no_overlap EXCLUDE USING gist (room_id WITH =, during WITH &&);
