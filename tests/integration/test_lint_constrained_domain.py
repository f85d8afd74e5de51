"""Domains with constraints, checked on a real server: the linter flags ADD COLUMN and ALTER
COLUMN … TYPE of one exactly when PostgreSQL rewrites the table, and the up gate's memo of the
catalog sees a domain gain or lose a constraint."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import psycopg2
import pytest

from pgshift.lint import LintOptions, lint_paths
from pgshift.lint.catalog_rows import catalog_fingerprint, fetch_catalog

TABLE = ("CREATE TABLE accounts (id integer PRIMARY KEY, name varchar(40), limits integer[]);\n"
         "INSERT INTO accounts SELECT g, 'a' || g, ARRAY[g] FROM generate_series(1, 100) g;\n"
         "CREATE SCHEMA app;\n")
RULES = frozenset({"add-column-constrained-domain", "alter-column-type-rewrite"})

# (the database's domains, the migration's statement, whether PostgreSQL rewrites the table)
CASES = [
    ("CREATE DOMAIN label AS text", "ALTER TABLE accounts ADD COLUMN c label", False),
    ("CREATE DOMAIN positive AS integer CHECK (VALUE > 0)",
     "ALTER TABLE accounts ADD COLUMN c positive", True),
    ("CREATE DOMAIN positive AS integer CHECK (VALUE > 0)",
     "ALTER TABLE accounts ADD COLUMN c positive DEFAULT 5", True),
    ("CREATE DOMAIN app.positive AS integer CHECK (VALUE > 0); "
     "CREATE DOMAIN small AS app.positive", "ALTER TABLE accounts ADD COLUMN c small", True),
    ("CREATE DOMAIN quantity AS integer NOT NULL DEFAULT 0",
     "ALTER TABLE accounts ADD COLUMN c quantity", True),
    ("CREATE DOMAIN amount AS integer; "
     "ALTER DOMAIN amount ADD CONSTRAINT amount_positive CHECK (VALUE > 0) NOT VALID",
     "ALTER TABLE accounts ADD COLUMN c amount", True),
    ("CREATE DOMAIN positive AS integer CHECK (VALUE > 0)",
     "ALTER TABLE accounts ADD COLUMN c positive[]", False),
    ("CREATE DOMAIN tag_list AS text[] CHECK (cardinality(VALUE) <= 10)",
     "ALTER TABLE accounts ADD COLUMN c tag_list", True),
    ("CREATE DOMAIN positive AS integer CHECK (VALUE > 0)",
     "ALTER TABLE accounts ALTER COLUMN id TYPE positive", True),
    ("CREATE DOMAIN short_text AS text CHECK (length(VALUE) < 50)",
     "ALTER TABLE accounts ALTER COLUMN name TYPE short_text", True),
    ("CREATE DOMAIN positive AS integer CHECK (VALUE > 0)",
     "ALTER TABLE accounts ALTER COLUMN limits TYPE positive[]", True),
    ("CREATE DOMAIN amount AS integer", "ALTER TABLE accounts ALTER COLUMN id TYPE amount", False),
    ("CREATE DOMAIN positive AS integer CHECK (VALUE > 0); "
     "ALTER TABLE accounts ADD COLUMN c positive DEFAULT 1",
     "ALTER TABLE accounts ALTER COLUMN c TYPE integer", False),
]


@pytest.fixture
def conn(database_url: str) -> Iterator[psycopg2.extensions.connection]:
    connection = psycopg2.connect(database_url)
    connection.autocommit = True
    yield connection
    connection.close()


def filenode(conn: psycopg2.extensions.connection) -> int:
    with conn.cursor() as cur:
        cur.execute("SELECT pg_relation_filenode('accounts')")
        return cur.fetchone()[0]


@pytest.mark.parametrize(("domains", "statement", "rewrites"), CASES,
                         ids=[f"{s.split(' ', 3)[3]}:{r}" for _, s, r in CASES])
def test_a_domain_column_is_flagged_exactly_when_postgres_rewrites_the_table(
    conn: psycopg2.extensions.connection, database_url: str, tmp_path: Path,
    domains: str, statement: str, rewrites: bool,
) -> None:
    with conn.cursor() as cur:
        cur.execute(TABLE + domains)
    migration = tmp_path / "V2__change.sql"
    migration.write_text(statement + ";\n", "utf-8")
    report = lint_paths([migration], LintOptions(database_url=database_url, select=RULES))
    before = filenode(conn)
    with conn.cursor() as cur:
        cur.execute(statement)
    assert (filenode(conn) != before) == rewrites
    assert [v.rule for v in report.violations] == (
        [("add-column-constrained-domain" if "ADD COLUMN" in statement
          else "alter-column-type-rewrite")] if rewrites else [])


def test_a_domain_created_in_the_same_file_is_flagged_before_it_runs(
    conn: psycopg2.extensions.connection, database_url: str, tmp_path: Path,
) -> None:
    with conn.cursor() as cur:
        cur.execute(TABLE)
    sql = ("CREATE DOMAIN positive AS integer CHECK (VALUE > 0);\n"
           "ALTER TABLE accounts ADD COLUMN c positive;\n")
    migration = tmp_path / "V2__domain.sql"
    migration.write_text(sql, "utf-8")
    report = lint_paths([migration], LintOptions(database_url=database_url, select=RULES))
    assert [(v.line, v.rule) for v in report.violations] == [
        (2, "add-column-constrained-domain")]
    before = filenode(conn)
    with conn.cursor() as cur:
        cur.execute(sql)
    assert filenode(conn) != before


def test_the_catalog_fingerprint_changes_when_a_domain_gains_or_loses_a_constraint(
    conn: psycopg2.extensions.connection,
) -> None:
    def fingerprint() -> str:
        return catalog_fingerprint(fetch_catalog(conn), 10_000, "pgshift")

    def run(sql: str) -> None:
        with conn.cursor() as cur:
            cur.execute(sql)

    run("CREATE DOMAIN amount AS integer; CREATE DOMAIN small AS amount")
    plain = fingerprint()
    run("ALTER DOMAIN amount ADD CONSTRAINT amount_positive CHECK (VALUE > 0) NOT VALID")
    checked = fingerprint()
    run("ALTER DOMAIN amount DROP CONSTRAINT amount_positive")
    assert fingerprint() == plain != checked
    run("ALTER DOMAIN amount SET NOT NULL")
    not_null = fingerprint()
    run("ALTER DOMAIN amount DROP NOT NULL")
    assert fingerprint() == plain not in (checked, not_null)
