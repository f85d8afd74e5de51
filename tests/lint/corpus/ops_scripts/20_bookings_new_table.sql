-- expect: none
-- runner: psql
CREATE EXTENSION IF NOT EXISTS btree_gist;
CREATE TABLE desk_bookings (
    id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    desk_id int NOT NULL,
    during tstzrange NOT NULL
);
ALTER TABLE desk_bookings
    ADD CONSTRAINT desk_bookings_no_overlap EXCLUDE USING gist (desk_id WITH =, during WITH &&);
