-- The application's queries: explicit columns, so adding one breaks nothing.
SELECT id, email FROM users WHERE email = $1;
SELECT o.id, o.total FROM orders o JOIN users u ON u.id = o.user_id WHERE u.id = $1;
INSERT INTO users (email) VALUES ($1) RETURNING id;
