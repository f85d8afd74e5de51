-- bad
CREATE DOMAIN email AS text CHECK (VALUE LIKE '%@%');

-- ok
CREATE DOMAIN email AS text NOT NULL;
