CREATE TABLE users (
    id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    email text NOT NULL
);
CREATE INDEX users_email_idx ON users (email);

-- pgshift:down
DROP TABLE users;
