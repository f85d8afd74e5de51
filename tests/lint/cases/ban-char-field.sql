-- bad
CREATE TABLE currencies (code char(3) PRIMARY KEY);

-- ok
CREATE TABLE currencies (code text PRIMARY KEY CHECK (length(code) = 3));
