"""``pgshift squash``: what the baseline file holds beyond the schema (default privileges), and
that it is written whole or not at all."""

from __future__ import annotations

import dataclasses
import errno
import io
import os
import resource
import signal
from collections.abc import Iterator
from pathlib import Path
from typing import IO, Any

import pytest
from psycopg2 import sql
from tests.fixtures.pg import _admin_connect, drop_database, url_with_dbname
from tests.fixtures.project import scalar

from pgshift import api
from pgshift.errors import InputError

DEFAULTS = ("ALTER DEFAULT PRIVILEGES IN SCHEMA public GRANT SELECT ON TABLES TO PUBLIC;\n"
            "CREATE TABLE t (id int);")


@pytest.fixture
def owner_database(admin_url: str, template_database: str, query) -> Iterator[tuple[str, str]]:
    """A role that is no superuser, and a new database it owns: (the role, its URL there)."""
    role = f"own_{query('SELECT current_database()')[0][0]}"
    name = f"{role}_db"
    conn = _admin_connect(admin_url)
    with conn.cursor() as cur:
        cur.execute(sql.SQL("CREATE ROLE {} LOGIN").format(sql.Identifier(role)))
        cur.execute(sql.SQL("CREATE DATABASE {} OWNER {} TEMPLATE {}").format(
            sql.Identifier(name), sql.Identifier(role), sql.Identifier(template_database)))
    url = url_with_dbname(admin_url, name)
    yield role, url.replace("postgres@", f"{role}@", 1)
    drop_database(admin_url, name)
    with conn.cursor() as cur:
        cur.execute(sql.SQL("DROP ROLE {}").format(sql.Identifier(role)))
    conn.close()


def test_default_privileges_in_a_baseline_are_those_of_the_role_that_runs_it(
    settings, write_migration, owner_database
) -> None:
    """The migration set default privileges for the role that ran it; pg_dump names that role
    (FOR ROLE postgres), which another server's migrating role may not be or may not act for."""
    write_migration("V001__t.sql", DEFAULTS, "DROP TABLE t;\nALTER DEFAULT PRIVILEGES IN "
                    "SCHEMA public REVOKE SELECT ON TABLES FROM PUBLIC;")
    text = api.squash(settings).path.read_text()
    assert "ALTER DEFAULT PRIVILEGES IN SCHEMA public GRANT SELECT ON TABLES" in text
    assert "FOR ROLE" not in text
    role, url = owner_database
    built = dataclasses.replace(settings, url=url)
    assert [o.migration.label for o in api.up(built).outcomes] == ["B001"]
    assert scalar(url, "SELECT array_agg(defaclrole::regrole::text) FROM pg_default_acl") == [
        role]


def test_no_room_for_the_baseline_is_one_clear_error_and_leaves_no_file(
    cli, write_migration, migrations_dir: Path
) -> None:
    """The file system refuses the baseline's bytes (here: a file size limit, as a full disk
    would): one error line, exit 2, and no file, not even the proof's."""
    write_migration("V001__t.sql", "CREATE TABLE t (id int, note text);\n"
                    "INSERT INTO t SELECT i, repeat('x', 40) FROM generate_series(1, 2000) i;",
                    "DROP TABLE t;")

    def limit_file_size() -> None:
        signal.signal(signal.SIGXFSZ, signal.SIG_IGN)  # a write past it fails instead
        resource.setrlimit(resource.RLIMIT_FSIZE, (32 * 1024, 32 * 1024))

    result = cli("squash", preexec_fn=limit_file_size)
    assert result.returncode == 2, result.stderr
    assert result.stderr.splitlines()[-1].startswith("pgshift: error: ")
    assert "File too large" in result.stderr and "Traceback" not in result.stderr
    assert sorted(p.name for p in migrations_dir.iterdir()) == ["V001__t.sql"]


class _HalfWritten:
    """A file whose disk fills up half-way through a write."""

    def __init__(self, file: IO[str]) -> None:
        self._file = file

    def write(self, text: str) -> int:
        self._file.write(text[: len(text) // 2])
        self._file.flush()
        raise OSError(errno.ENOSPC, "No space left on device")

    def __enter__(self) -> _HalfWritten:
        return self

    def __exit__(self, *exc: object) -> None:
        self._file.close()

    def __getattr__(self, name: str) -> object:
        return getattr(self._file, name)


def test_a_disk_that_fills_up_while_the_baseline_is_written_leaves_no_file(
    settings, write_migration, migrations_dir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    write_migration("V001__t.sql", "CREATE TABLE t (id int);", "DROP TABLE t;")
    real_open = io.open

    def open_on_a_full_disk(file: Any, mode: str = "r", *args: Any, **kwargs: Any) -> Any:
        opened = real_open(file, mode, *args, **kwargs)
        where = os.readlink(f"/proc/self/fd/{file}") if isinstance(file, int) else str(file)
        if "w" in mode and where.startswith(str(migrations_dir)):
            return _HalfWritten(opened)
        return opened

    monkeypatch.setattr(io, "open", open_on_a_full_disk)
    with pytest.raises(InputError, match="cannot write the baseline: No space left on device"):
        api.squash(settings)
    assert sorted(p.name for p in migrations_dir.iterdir()) == ["V001__t.sql"]


STRINGS = r"""
CREATE TABLE snippets (id int PRIMARY KEY, body text, doc jsonb);
COMMENT ON TABLE snippets IS E'psql tips:\n\\dt lists tables\n\\restrict is not a command';
INSERT INTO snippets VALUES
    (1, E'first\n\\q not a command\nlast', '{"a": "x"}'),
    (2, E'windows\r\nline\rold mac', E'{"a": "b\\r\\n"}'),
    (3, E'blank lines:\n\n\n\nend', NULL);
CREATE FUNCTION spaced() RETURNS int LANGUAGE sql AS $$
SELECT 1



-- after three blank lines
$$;
"""


def test_strings_and_bodies_reach_a_new_database_exactly_as_the_migrations_left_them(
    settings, fresh, write_migration
) -> None:
    """What pg_dump writes inside a string or a body is data: a line that starts with a
    backslash, blank lines, carriage returns. The baseline holds them as they are."""
    write_migration("V001__strings.sql", STRINGS, "DROP FUNCTION spaced(); DROP TABLE snippets;")
    api.up(settings)
    result = api.squash(settings)
    assert result.tables_with_rows == ["public.snippets"]
    assert [o.migration.label for o in api.up(fresh).outcomes] == ["B001"]
    rows = "SELECT array_agg(md5(s::text) ORDER BY id) FROM snippets s"
    assert scalar(fresh.url, rows) == scalar(settings.url, rows)
    for value in ("obj_description('snippets'::regclass)",
                  "(SELECT prosrc FROM pg_proc WHERE proname = 'spaced')"):
        assert scalar(fresh.url, f"SELECT {value}") == scalar(settings.url, f"SELECT {value}")


def test_cli_names_the_one_migration_a_baseline_of_one_holds(cli, write_migration) -> None:
    write_migration("V001__t.sql", "CREATE TABLE t (id int);", "DROP TABLE t;")
    result = cli("squash")
    assert result.returncode == 0, result.stderr
    assert "It holds 1 migration(s), V001__t.sql (1 table(s))" in result.stderr
