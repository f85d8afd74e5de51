SELECT id, email FROM users WHERE id = $1;
-- Still used by the application, but V002 drops the column.
SELECT nickname FROM users WHERE email = $1;
-- Prepared by apps before a deploy and run after it: the result type changes under it.
SELECT * FROM users WHERE id = $1;
