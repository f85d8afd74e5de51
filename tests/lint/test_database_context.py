"""Schema context from a live database: column types, validated checks, row counts."""

from __future__ import annotations

from pathlib import Path

import psycopg2
import pytest

from pgshift.lint import LintOptions, lint_migrations, lint_paths
from pgshift.migrations.model import Migration
from tests.fixtures.pg import explain_every_plan

SCHEMA = """
CREATE TABLE users (id integer PRIMARY KEY, email varchar(100), name text);
ALTER TABLE users ADD CONSTRAINT users_name_nn CHECK (name IS NOT NULL) NOT VALID;
ALTER TABLE users VALIDATE CONSTRAINT users_name_nn;
CREATE UNIQUE INDEX users_email_idx ON users (email);
INSERT INTO users SELECT g, 'u' || g || '@x.org', 'n' FROM generate_series(1, 20000) g;
CREATE TABLE countries (code text PRIMARY KEY, name text);
INSERT INTO countries VALUES ('fr', 'France'), ('jp', 'Japan');
ANALYZE users;
ANALYZE countries;
"""


def prepare(url: str) -> None:
    conn = psycopg2.connect(url)
    conn.autocommit = True
    with conn.cursor() as cur:
        cur.execute(SCHEMA)
    conn.close()


def test_database_gives_types_checks_and_row_counts(database_url: str, tmp_path: Path) -> None:
    prepare(database_url)
    migration = tmp_path / "V9__change.sql"
    migration.write_text(
        "ALTER TABLE users ALTER COLUMN email TYPE varchar(200);\n"   # widening: free
        "ALTER TABLE users ALTER COLUMN email TYPE citext;\n"         # indexed: rebuild
        "ALTER TABLE users ALTER COLUMN name SET NOT NULL;\n"         # validated CHECK exists
        "ALTER TABLE users ALTER COLUMN id TYPE bigint;\n"            # rewrite of 20,000 rows
        "CREATE INDEX countries_name ON countries (name);\n",         # 2 rows: downgraded
        "utf-8")
    report = lint_paths([migration], LintOptions(database_url=database_url))
    found = [(v.line, v.rule, v.severity) for v in report.violations]
    assert found == [
        (2, "alter-column-type-rewrite", "error"),
        (4, "alter-column-type-rewrite", "error"),
        (5, "create-index-non-concurrent", "warning"),
    ]
    assert "rows in countries" in report.violations[2].message


def test_up_gate_reads_the_schema_from_its_connection(database_url: str, tmp_path: Path) -> None:
    prepare(database_url)
    sql = "ALTER TABLE users ALTER COLUMN email TYPE text;\nCREATE INDEX i ON users (name);\n"
    migration = Migration(kind="versioned", version=None, description="x",
                          path=tmp_path / "V9__x.sql", checksum="", up_sql=sql)
    conn = psycopg2.connect(database_url)
    try:
        report = lint_migrations([migration], LintOptions(), conn=conn)
    finally:
        conn.close()
    assert [(v.line, v.rule) for v in report.errors] == [(2, "create-index-non-concurrent")]


def test_the_catalog_is_read_without_jit_and_leaves_the_session_as_it_was(
    database_url: str,
) -> None:
    """Compiling the catalog reads cost 30-50 ms once pg_class's estimates pass the JIT
    thresholds, ten times running them; every plan here is forced over the thresholds."""
    from pgshift.lint.catalog_rows import fetch_catalog

    prepare(database_url)
    conn = psycopg2.connect(database_url)
    conn.autocommit = True
    jit_available = explain_every_plan(conn)
    relations, _constraints, _types, names = fetch_catalog(conn)
    assert any(row[1] == "users" for row in relations) and "public" in names
    plans = "".join(conn.notices)
    assert plans.count("Query Text") >= 4  # the reads were explained
    assert "JIT:" not in plans
    with conn.cursor() as cur:
        cur.execute("SELECT current_setting('jit'), pg_current_xact_id_if_assigned(),"
                    " now() = statement_timestamp()")
        assert cur.fetchone() == ("on", None, True)  # jit as before, no transaction left open
    conn.close()
    if not jit_available:
        pytest.skip("this server has no JIT (llvmjit): the reads were checked, not the JIT")


def test_a_tables_emptiness_is_known_whether_analyzed_truncated_or_never_looked_at(
    database_url: str,
) -> None:
    """The gate's catalog read takes an analyzed table's size from pg_class and opens the
    files of the others only: what the linter concludes is the same either way."""
    from pgshift.lint.catalog_rows import fetch_catalog, rows_estimate

    conn = psycopg2.connect(database_url)
    conn.autocommit = True
    with conn.cursor() as cur:
        for statement in (  # each its own transaction, as migrations before the gate
            "CREATE TABLE fresh (id int)",  # rows, but no VACUUM or ANALYZE has counted them
            "INSERT INTO fresh SELECT generate_series(1, 5000)",
            "CREATE TABLE counted (id int)",
            "INSERT INTO counted SELECT generate_series(1, 5000)",
            "ANALYZE counted",
            "CREATE TABLE emptied (id int)",
            "INSERT INTO emptied SELECT generate_series(1, 5000)",
            "ANALYZE emptied",
            "TRUNCATE emptied",
            "CREATE TABLE untouched (id int)",
        ):
            cur.execute(statement)
    relations = fetch_catalog(conn)[0]
    conn.close()
    rows = {r[1]: rows_estimate(r[3], r[4]) for r in relations}
    assert rows == {"fresh": None, "counted": 5000, "emptied": 0, "untouched": 0}


def test_database_tells_a_stored_generated_column_from_a_plain_one(
    database_url: str, tmp_path: Path
) -> None:
    """SET EXPRESSION rewrites a stored generated column; the catalog says which one is."""
    conn = psycopg2.connect(database_url)
    conn.autocommit = True
    with conn.cursor() as cur:
        cur.execute("CREATE TABLE items (price numeric, qty int, "
                    "total numeric GENERATED ALWAYS AS (price * qty) STORED)")
    conn.close()
    from pgshift.lint.catalog import load_schema

    conn = psycopg2.connect(database_url)
    try:
        schema = load_schema(conn)
    finally:
        conn.close()
    columns = schema.tables["items"].columns
    assert (columns["total"].generated, columns["qty"].generated) == ("s", "")


def test_database_gives_function_volatility_and_unique_index_columns(
    database_url: str, tmp_path: Path
) -> None:
    """A STABLE user function is a free default; PRIMARY KEY USING INDEX on a nullable column
    scans for NULLs (the index's columns come from the catalog)."""
    conn = psycopg2.connect(database_url)
    conn.autocommit = True
    with conn.cursor() as cur:
        cur.execute("CREATE TABLE accounts (id bigint, code text NOT NULL);"
                    "CREATE UNIQUE INDEX accounts_id_idx ON accounts (id);"
                    "CREATE UNIQUE INDEX accounts_code_idx ON accounts (code) INCLUDE (id);"
                    "CREATE FUNCTION tenant() RETURNS int LANGUAGE sql STABLE AS 'SELECT 1';"
                    "CREATE FUNCTION token() RETURNS text LANGUAGE sql AS 'SELECT 1::text';")
    conn.close()
    migration = tmp_path / "V9__keys.sql"
    migration.write_text(
        "ALTER TABLE accounts ADD COLUMN tenant_id int DEFAULT tenant();\n"
        "ALTER TABLE accounts ADD COLUMN token text DEFAULT token();\n"
        "ALTER TABLE accounts ADD CONSTRAINT accounts_code_pk PRIMARY KEY USING INDEX "
        "accounts_code_idx;\n"
        "ALTER TABLE accounts DROP CONSTRAINT accounts_code_pk;\n"
        "ALTER TABLE accounts ADD CONSTRAINT accounts_pkey PRIMARY KEY USING INDEX "
        "accounts_id_idx;\n", "utf-8")
    report = lint_paths([migration], LintOptions(database_url=database_url))
    assert [(v.line, v.rule) for v in report.violations] == [
        (2, "add-column-volatile-default"),
        (5, "set-not-null-without-check"),
    ]
