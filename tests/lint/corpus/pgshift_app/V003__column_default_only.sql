-- expect: none
-- SET DEFAULT only affects future inserts: no rewrite, whatever the expression.
ALTER TABLE users ALTER COLUMN handle SET DEFAULT md5(random()::text);
ALTER TABLE audit ALTER COLUMN note SET DEFAULT gen_random_uuid()::text;
