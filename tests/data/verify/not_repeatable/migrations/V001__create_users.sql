CREATE TABLE users (
    id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    email text NOT NULL,
    created_at timestamptz NOT NULL DEFAULT now()
);
CREATE TABLE orders (
    id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    user_id bigint NOT NULL REFERENCES users (id),
    total numeric(10, 2) NOT NULL
);
CREATE INDEX orders_user_id_idx ON orders (user_id);
CREATE TABLE feature_flags (name text PRIMARY KEY, enabled boolean NOT NULL);

-- pgshift:down
DROP TABLE feature_flags;
DROP TABLE orders;
DROP TABLE users;
