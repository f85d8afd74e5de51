-- The starting schema: users and their posts.
CREATE TABLE users (
    id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    email text NOT NULL,
    old_name varchar(100),
    created_at timestamptz NOT NULL DEFAULT now()
);

CREATE TABLE posts (
    id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    creator_id bigint NOT NULL REFERENCES users (id),
    body text NOT NULL,
    created_at timestamptz NOT NULL DEFAULT now()
);

INSERT INTO users (email, old_name)
SELECT 'user' || g || '@example.com', 'User ' || g FROM generate_series(1, 1000) AS g;

INSERT INTO posts (creator_id, body)
SELECT 1 + g % 1000, 'post ' || g FROM generate_series(1, 5000) AS g;

-- pgshift:down
DROP TABLE posts;
DROP TABLE users;
