-- bad
ALTER DOMAIN email ADD CONSTRAINT email_has_at CHECK (VALUE LIKE '%@%');

-- bad
ALTER DOMAIN positive_int ADD CHECK (VALUE > 0);

-- ok
ALTER DOMAIN email ADD CONSTRAINT email_has_at CHECK (VALUE LIKE '%@%') NOT VALID;

-- bad
ALTER DOMAIN email VALIDATE CONSTRAINT email_has_at;

-- bad
ALTER DOMAIN email SET NOT NULL;

-- bad
ALTER DOMAIN email ADD CONSTRAINT email_nn NOT NULL;

-- ok
CREATE DOMAIN percent AS int;
ALTER DOMAIN percent SET NOT NULL;

-- ok
ALTER DOMAIN email DROP NOT NULL;

-- ok
CREATE DOMAIN percent AS int;
ALTER DOMAIN percent ADD CONSTRAINT percent_range CHECK (VALUE BETWEEN 0 AND 100);
