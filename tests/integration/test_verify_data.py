"""Generated sample rows for verify --with-data: every table filled, keys that join up."""

from __future__ import annotations

from pathlib import Path

import psycopg2
import pytest

from pgshift.errors import InputError
from pgshift.verify.data import generate_rows, load_script

SCHEMA = """
CREATE TYPE mood AS ENUM ('happy', 'sad');
CREATE TABLE accounts (code varchar(12) PRIMARY KEY, mood mood NOT NULL, tags text[]);
CREATE TABLE users (
    id bigserial PRIMARY KEY, email text UNIQUE NOT NULL, uid uuid NOT NULL, doc jsonb,
    account_code varchar(12) NOT NULL REFERENCES accounts (code), active boolean NOT NULL,
    seen timestamptz NOT NULL, parent_id bigint REFERENCES users (id)
);
CREATE TABLE audit (id int GENERATED ALWAYS AS IDENTITY, at timestamptz DEFAULT now());
CREATE TABLE picky (n int NOT NULL CHECK (n < 0));
"""


def test_generated_rows_fill_every_table_and_satisfy_foreign_keys(database_url: str) -> None:
    conn = psycopg2.connect(database_url)
    conn.autocommit = True
    with conn.cursor() as cur:
        cur.execute(SCHEMA)
    notes = generate_rows(conn, rows=50, skip_schemas=["pgshift"])
    with conn.cursor() as cur:
        counts = {}
        for table in ("accounts", "users", "audit", "picky"):
            cur.execute(f"SELECT count(*) FROM {table}")
            counts[table] = cur.fetchone()[0]
        cur.execute("SELECT count(*) FROM users u JOIN accounts a ON a.code = u.account_code")
        joined = cur.fetchone()[0]
    assert counts == {"accounts": 50, "users": 50, "audit": 50, "picky": 0}
    assert joined == 50
    assert len(notes) == 1 and notes[0].startswith("no sample rows for public.picky: ")
    assert generate_rows(conn, rows=50, skip_schemas=["pgshift"]) == notes  # full tables kept
    conn.close()


def test_a_data_script_that_fails_is_named_with_the_line_postgresql_points_at(
    database_url: str, tmp_path: Path
) -> None:
    """A seed script runs as one string: its error said what, never where in a long file."""
    script = tmp_path / "seed.sql"
    script.write_text("CREATE TABLE t (id int);\nINSERT INTO t VALUES (1);\n\n"
                      "INSERT INTO nope VALUES (1);\n")
    conn = psycopg2.connect(database_url)
    with pytest.raises(InputError) as caught:
        load_script(conn, script)
    conn.close()
    assert str(caught.value) == ('seed.sql:4: the data script failed: relation "nope" does '
                                 'not exist')
