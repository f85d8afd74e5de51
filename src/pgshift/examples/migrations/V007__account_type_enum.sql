-- An ENUM type and a column using it. A constant default is metadata-only since PostgreSQL 11.
CREATE TYPE account_type AS ENUM ('fan', 'creator', 'admin');
ALTER TABLE users ADD COLUMN account_type account_type DEFAULT 'fan';

-- pgshift:down
ALTER TABLE users DROP COLUMN account_type;
DROP TYPE account_type;
