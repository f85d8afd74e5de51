-- bad
UPDATE users SET name = 'a', name = 'b' WHERE id = 1;

-- ok
UPDATE users SET name = 'a', email = 'b' WHERE id = 1;
