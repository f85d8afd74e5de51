-- expect: none
-- runner: psql
-- alembic upgrade head --sql (offline mode)
BEGIN;

CREATE TABLE alembic_version (
    version_num VARCHAR(32) NOT NULL, 
    CONSTRAINT alembic_version_pkc PRIMARY KEY (version_num)
);

-- Running upgrade  -> a1b2c3d4e5f6

CREATE TABLE accounts (
    id SERIAL NOT NULL, 
    email VARCHAR(255) NOT NULL, 
    display_name VARCHAR(64), 
    created_at TIMESTAMP WITHOUT TIME ZONE DEFAULT now() NOT NULL, 
    PRIMARY KEY (id)
);

CREATE UNIQUE INDEX ix_accounts_email ON accounts (email);

INSERT INTO alembic_version (version_num) VALUES ('a1b2c3d4e5f6') RETURNING alembic_version.version_num;

COMMIT;
