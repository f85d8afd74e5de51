"""pgshift dump: the schema as SQL for review, the same on every run, enough to rebuild the
database; and the schema file rewritten after each run that changed the database."""

from __future__ import annotations

import dataclasses
from collections.abc import Iterator
from pathlib import Path

import psycopg2
import pytest
from tests.fixtures.pg import create_database, drop_database, url_with_dbname

from pgshift import api

USERS = ("CREATE TABLE users (id bigint PRIMARY KEY, email text NOT NULL);\n"
         "CREATE INDEX users_email_idx ON users (email);")
ORDERS = "CREATE TABLE orders (id bigint PRIMARY KEY, user_id bigint REFERENCES users (id));"


@pytest.fixture
def two_applied(settings, write_migration):
    write_migration("V001__users.sql", USERS, "DROP TABLE users;")
    write_migration("V002__orders.sql", ORDERS, "DROP TABLE orders;")
    api.up(settings)
    return settings


@pytest.fixture
def other_database(admin_url: str, template_database: str) -> Iterator[str]:
    name = create_database(admin_url, template_database)
    yield url_with_dbname(admin_url, name)
    drop_database(admin_url, name)


def test_the_dump_is_the_schema_without_pgshifts_own_then_the_applied_migrations(
    two_applied
) -> None:
    text = api.dump_schema(two_applied)
    assert "CREATE TABLE public.users (" in text
    assert "CREATE INDEX users_email_idx ON public.users USING btree (email);" in text
    assert "FOREIGN KEY (user_id) REFERENCES public.users(id)" in text
    assert "pgshift.history" not in text and "CREATE SCHEMA pgshift" not in text
    assert "OWNER TO" not in text and "GRANT" not in text
    assert text.endswith("\n--\n-- Applied migrations (pgshift's history).\n"
                         "-- A database made from this file adopts them with "
                         "'pgshift baseline --version 002'.\n"
                         "--\n-- V001__users.sql\n-- V002__orders.sql\n")


def test_the_dump_is_the_same_on_every_run_and_machine(two_applied) -> None:
    first = api.dump_schema(two_applied)
    assert api.dump_schema(two_applied) == first
    assert "Dumped from database version" not in first and "Dumped by pg_dump" not in first
    assert not [line for line in first.splitlines() if line.startswith("\\")]  # \restrict keys


def test_a_database_built_from_the_dump_is_adopted_with_baseline(
    two_applied, other_database
) -> None:
    conn = psycopg2.connect(other_database)
    conn.autocommit = True
    with conn.cursor() as cur:
        cur.execute(api.dump_schema(two_applied))
    conn.close()
    rebuilt = dataclasses.replace(two_applied, url=other_database)
    api.baseline(rebuilt, "002")
    assert [i.state for i in api.status(rebuilt).items] == ["applied", "applied"]
    assert api.dump_schema(rebuilt) == api.dump_schema(two_applied)


def test_up_down_and_redo_rewrite_the_schema_file(cli, write_migration, tmp_path: Path) -> None:
    schema_file = tmp_path / "db" / "schema.sql"
    env = {"PGSHIFT_SCHEMA_FILE": str(schema_file)}
    write_migration("V001__users.sql", USERS, "DROP TABLE users;")
    write_migration("V002__orders.sql", ORDERS, "DROP TABLE orders;")
    up = cli("up", env=env)
    assert up.returncode == 0, up.stderr
    assert f"Wrote {schema_file}." in up.stdout
    assert "CREATE TABLE public.orders" in schema_file.read_text()
    assert cli("down", env=env).returncode == 0
    assert "CREATE TABLE public.orders" not in schema_file.read_text()
    schema_file.write_text("stale")
    assert cli("redo", env=env).returncode == 0  # V001, the last one applied
    assert "CREATE TABLE public.users" in schema_file.read_text()
    assert cli("up", env=env).returncode == 0
    assert "CREATE TABLE public.orders" in schema_file.read_text()
    nothing = cli("up", env=env)
    assert "Wrote" not in nothing.stdout  # nothing changed, nothing rewritten
    assert oct(schema_file.stat().st_mode & 0o777) == "0o644"


def test_dump_writes_a_file_or_standard_output(cli, two_applied, tmp_path: Path) -> None:
    out = cli("dump")
    assert out.returncode == 0 and "CREATE TABLE public.users" in out.stdout
    written = cli("dump", "-o", str(tmp_path / "schema.sql"))
    assert written.returncode == 0
    assert (tmp_path / "schema.sql").read_text() == out.stdout


def test_a_missing_pg_dump_fails_dump_but_not_the_migrations_it_follows(
    cli, write_migration, tmp_path: Path, query
) -> None:
    env = {"PGSHIFT_PG_DUMP": str(tmp_path / "no-pg_dump"),
           "PGSHIFT_SCHEMA_FILE": str(tmp_path / "schema.sql")}
    write_migration("V001__users.sql", USERS, "DROP TABLE users;")
    up = cli("up", env=env)
    assert up.returncode == 0
    assert "warning: the migrations ran, but" in up.stderr and "is not a file" in up.stderr
    assert query("SELECT count(*) FROM pgshift.history") == [(1,)]
    dump = cli("dump", env=env)
    assert dump.returncode == 2
    assert dump.stderr.startswith("pgshift: error: dump: pg-dump ")


def test_a_failing_pg_dump_never_shows_the_password(cli, admin_url: str) -> None:
    url = url_with_dbname(admin_url, "no_such_db").replace("://", "://postgres:s3cretPW@", 1)
    result = cli("dump", env={"PGSHIFT_URL": url})
    assert result.returncode == 2
    assert "s3cretPW" not in result.stdout + result.stderr


def test_check_passes_on_an_up_to_date_file_and_fails_with_a_diff_on_a_stale_one(
    cli, write_migration, tmp_path: Path
) -> None:
    schema_file = tmp_path / "schema.sql"
    env = {"PGSHIFT_SCHEMA_FILE": str(schema_file)}
    write_migration("V001__users.sql", USERS, "DROP TABLE users;")
    assert cli("up", env=env).returncode == 0
    fresh = cli("dump", "--check", env=env)
    assert (fresh.returncode, fresh.stdout) == (0, f"OK: {schema_file} is the database's schema.\n")
    write_migration("V002__orders.sql", ORDERS, "DROP TABLE orders;")
    assert cli("up").returncode == 0  # schema-file not set: the file is now stale
    stale = cli("dump", "--check", env=env)
    assert stale.returncode == 1
    assert "+CREATE TABLE public.orders (" in stale.stdout
    assert stale.stderr.startswith(f"pgshift: error: {schema_file} is not the database's schema")
    missing = cli("dump", "--check", "-o", str(tmp_path / "none.sql"))
    assert missing.returncode == 1 and "+CREATE TABLE public.users (" in missing.stdout


def test_embedded_dumps_what_the_migrations_make_without_a_database(
    two_applied, cli, server_version: int, tmp_path: Path
) -> None:
    """The same text as the database the migrations were applied to, from a throwaway server
    of the same major version; --check compares a committed file the same way (CI without a
    database service)."""
    pg = {"PGSHIFT_PG_VERSION": str(server_version // 10000)}
    alone = {"PGSHIFT_URL": "", **pg}
    embedded = cli("dump", "--embedded", env=alone, timeout=120)
    assert embedded.returncode == 0, embedded.stderr
    assert embedded.stdout == api.dump_schema(two_applied)
    committed = tmp_path / "schema.sql"
    committed.write_text(embedded.stdout)
    assert cli("dump", "--embedded", "--check", "-o", str(committed), env=alone,
               timeout=120).returncode == 0
