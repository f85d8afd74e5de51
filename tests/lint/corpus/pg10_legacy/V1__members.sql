-- expect: none
-- pg-version: 10
CREATE TABLE members (
    id serial PRIMARY KEY,
    email varchar(120) NOT NULL,
    nickname varchar(40)
);
