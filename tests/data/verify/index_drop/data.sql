INSERT INTO users (email) SELECT 'user' || g || '@example.com' FROM generate_series(1, 5000) g;
