"""A script run by a DBA's own psql: whatever its locale, its ``.psqlrc`` and the database's
name, the script applies what ``pgshift up`` applies."""

from __future__ import annotations

import dataclasses
import os
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest

from pgshift import api

INDEX = "-- pgshift:no-transaction\nCREATE INDEX CONCURRENTLY t_s ON t (s);"


def run_psql(pg_bindir: Path, url: str, text: str, tmp_path: Path,
             **env: str) -> subprocess.CompletedProcess:
    """``psql -v ON_ERROR_STOP=1 -f FILE URL`` without ``-X``: the DBA's psqlrc applies."""
    path = tmp_path / "script.sql"
    path.write_text(text, encoding="utf-8")
    return subprocess.run([str(pg_bindir / "psql"), "-v", "ON_ERROR_STOP=1", "-f", str(path),
                           url], capture_output=True, text=True, timeout=60,
                          env={**os.environ, "PSQLRC": os.devnull, **env})


def test_non_ascii_text_arrives_intact_whatever_the_client_encoding_of_psql(
    settings, write_migration, pg_bindir, database_url, tmp_path, query
) -> None:
    """The file is UTF-8; psql takes its client encoding from the DBA's locale (a Latin-1 or
    Windows workstation) or PGCLIENTENCODING, and would convert the bytes as that."""
    write_migration("V001__t.sql", "CREATE TABLE t (s text);\nINSERT INTO t VALUES ('café ☕');",
                    "DROP TABLE t;")
    done = run_psql(pg_bindir, database_url, api.script(settings).text, tmp_path,
                    PGCLIENTENCODING="LATIN1")
    assert done.returncode == 0, done.stderr
    assert query("SELECT s FROM t") == [("café ☕",)]


def test_a_psqlrc_that_turns_autocommit_off_does_not_change_the_run(
    settings, write_migration, pg_bindir, database_url, tmp_path, query
) -> None:
    """``\\set AUTOCOMMIT off`` is a common DBA habit: psql would wrap everything in one
    transaction, a CONCURRENTLY build would fail and all before it roll back at exit."""
    write_migration("V001__t.sql", "CREATE TABLE t (s text);", "DROP TABLE t;")
    write_migration("V002__t_s.sql", INDEX, "DROP INDEX CONCURRENTLY t_s;")
    rc = tmp_path / "psqlrc"
    rc.write_text("\\set AUTOCOMMIT off\n")
    done = run_psql(pg_bindir, database_url, api.script(settings).text, tmp_path,
                    PSQLRC=str(rc))
    assert done.returncode == 0, done.stderr
    assert query("SELECT key, status FROM pgshift.history ORDER BY key") == [
        ("1", "applied"), ("2", "applied")]
    assert query("SELECT indisvalid FROM pg_index WHERE indexrelid = 't_s'::regclass"
                 ) == [(True,)]


@pytest.fixture
def odd_database(admin_url: str) -> Iterator[str]:
    import psycopg2
    from psycopg2 import sql
    from tests.fixtures.pg import url_with_dbname

    name = "Shop DB\nSELECT 1/0;"  # a line break in the name: the header names the target
    conn = psycopg2.connect(admin_url)
    conn.autocommit = True
    with conn.cursor() as cur:
        cur.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))
    yield url_with_dbname(admin_url, name)
    with conn.cursor() as cur:
        cur.execute(sql.SQL("DROP DATABASE {} WITH (FORCE)").format(sql.Identifier(name)))
    conn.close()


def test_a_database_name_with_a_line_break_stays_in_the_scripts_comment(
    settings, write_migration, pg_bindir, odd_database, tmp_path
) -> None:
    write_migration("V001__t.sql", "CREATE TABLE t (s text);", "DROP TABLE t;")
    there = dataclasses.replace(settings, url=odd_database)
    text = api.script(there).text
    assert all(line.startswith("--") for line in text.splitlines()[:3]), text
    done = run_psql(pg_bindir, odd_database, text, tmp_path)
    assert done.returncode == 0, done.stderr
    assert "division by zero" not in done.stderr
