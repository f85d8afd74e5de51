-- bad
ALTER TABLE bookings ADD CONSTRAINT no_overlap EXCLUDE USING gist (room_id WITH =, during WITH &&);

-- bad
-- runner: psql
ALTER TABLE reservations ADD EXCLUDE USING gist (tsrange(starts_at, ends_at) WITH &&);

-- ok
CREATE TABLE rooms_booked (room_id int, during tsrange);
ALTER TABLE rooms_booked ADD CONSTRAINT no_overlap EXCLUDE USING gist (room_id WITH =, during WITH &&);

-- ok
CREATE TABLE shifts (worker int, during tstzrange, EXCLUDE USING gist (worker WITH =, during WITH &&));
