"""Adopting from histories that are odd but real: reruns from other folders, bad values, roles
that cannot read, names in mixed case, and another runner working while adopt waits its turn."""

from __future__ import annotations

import dataclasses
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import psycopg2
import pytest
from psycopg2.extensions import make_dsn, parse_dsn
from tests.integration.test_adopt import DBMATE_DDL, FLYWAY_DDL, GOLANG_DDL, write

from pgshift import api
from pgshift.adopt import flyway_checksum
from pgshift.config import Settings
from pgshift.errors import DriftError, InputError


def flyway_row(query, rank: int, version: str | None, script: str, checksum: int | None,
               kind: str = "SQL") -> None:
    query("INSERT INTO flyway_schema_history (installed_rank, version, description, type, "
          "script, checksum, installed_by, execution_time, success) "
          "VALUES (%s, %s, 'x', %s, %s, %s, 'postgres', 7, true)",
          rank, version, kind, script, checksum)


def test_a_repeatable_flyway_reran_from_another_subfolder_is_not_stale(
    settings: Settings, migrations_dir: Path, query
) -> None:
    (migrations_dir / "old").mkdir()
    first = write(migrations_dir / "old", "R__view.sql", "CREATE VIEW v AS SELECT 1 AS a;\n")
    query(FLYWAY_DDL)
    flyway_row(query, 1, None, "old/R__view.sql", flyway_checksum(first.read_bytes()))
    (migrations_dir / "new").mkdir()
    first.unlink()  # moved to new/ and changed: Flyway reran it from there
    moved = write(migrations_dir / "new", "R__view.sql",
                  "CREATE OR REPLACE VIEW v AS SELECT 1 AS a, 2 AS b;\n")
    flyway_row(query, 2, None, "new/R__view.sql", flyway_checksum(moved.read_bytes()))
    result = api.adopt(settings, "flyway")
    assert [m.name for m in result.recorded] == ["R__view.sql"]
    assert result.stale == []  # Flyway's last run is of the file as it is
    flyway = dataclasses.replace(settings, flavor="flyway")
    assert api.up(flyway).outcomes == []


def test_adopt_refuses_a_flyway_version_that_is_not_a_number_as_bad_input(
    settings: Settings, migrations_dir: Path, query
) -> None:
    query(FLYWAY_DDL)
    flyway_row(query, 1, "1.2-beta", "V1.2-beta__x.sql", None)
    with pytest.raises(InputError, match=r"holds a version that is not a number: '1\.2-beta'"):
        api.adopt(settings, "flyway")


def test_adopt_refuses_golang_migrate_left_dirty_at_no_version(
    settings: Settings, migrations_dir: Path, query
) -> None:
    write(migrations_dir, "1_init.up.sql", "CREATE TABLE t (id int);\n")
    write(migrations_dir, "1_init.down.sql", "DROP TABLE t;\n")
    query(GOLANG_DDL)
    query("INSERT INTO schema_migrations VALUES (-1, true)")  # a first up failed half-way
    with pytest.raises(DriftError, match=r"dirty at no version \(-1\).*migrate force -1"):
        api.adopt(settings, "golang-migrate")
    assert query("SELECT to_regclass('pgshift.history')") == [(None,)]


def test_adopt_from_dbmate_matches_versions_as_dbmate_writes_them(
    settings: Settings, migrations_dir: Path, query
) -> None:
    write(migrations_dir, "20240101120000_a.sql",
          "-- migrate:up\nCREATE TABLE a (id int);\n-- migrate:down\nDROP TABLE a;\n")
    query(DBMATE_DDL)
    query("INSERT INTO schema_migrations VALUES ('020240101120000')")  # dbmate: not that file
    with pytest.raises(DriftError, match="whose file is not in the migrations directory: "
                                         "020240101120000"):
        api.adopt(settings, "dbmate")


@pytest.fixture
def reader(database_url: str, query) -> Iterator[str]:
    """The URL of a role that may connect and create pgshift's schema, and nothing more."""
    params = parse_dsn(database_url)
    role = f"reader_{params['dbname']}"
    query(f'CREATE ROLE "{role}" LOGIN')
    query(f'GRANT CREATE ON DATABASE "{params["dbname"]}" TO "{role}"')
    yield make_dsn(database_url, user=role)
    query(f'DROP OWNED BY "{role}"; DROP ROLE "{role}"')


def test_adopt_says_the_role_cannot_read_the_tools_table_and_what_to_grant(
    settings: Settings, migrations_dir: Path, query, reader: str
) -> None:
    write(migrations_dir, "V1__init.sql", "CREATE TABLE t (id int);\n")
    query("CREATE SCHEMA app; CREATE SCHEMA other")
    query(FLYWAY_DDL.replace('"public"', '"app"'))
    query(FLYWAY_DDL.replace('"public"', '"other"'))
    as_reader = dataclasses.replace(settings, url=reader)
    with pytest.raises(InputError, match=r"cannot read flyway's history table "
                                         r"'app\.flyway_schema_history': permission denied "
                                         r"for schema app") as caught:
        api.adopt(as_reader, "flyway", table="app.flyway_schema_history")
    assert "GRANT USAGE" in caught.value.hint
    query(f"GRANT USAGE ON SCHEMA other TO {parse_dsn(reader)['user']}")
    with pytest.raises(InputError, match=r"cannot read flyway's history table "
                                         r"other\.flyway_schema_history: permission denied "
                                         r"for table flyway_schema_history") as caught:
        api.adopt(as_reader, "flyway", table="other.flyway_schema_history", dry_run=True)
    assert "GRANT SELECT ON other.flyway_schema_history" in caught.value.hint


def test_adopt_finds_a_history_table_named_in_mixed_case_and_points_to_one_elsewhere(
    settings: Settings, migrations_dir: Path, query
) -> None:
    v1 = write(migrations_dir, "V1__init.sql", "CREATE TABLE t (id int);\n")
    query('CREATE SCHEMA "App"')  # flyway.schemas=App: Flyway quotes its names
    query(FLYWAY_DDL.replace('"public"', '"App"'))
    query(v1.read_text())
    query('INSERT INTO "App".flyway_schema_history (installed_rank, version, description, type, '
          "script, checksum, installed_by, execution_time, success) "
          "VALUES (1, '1', 'init', 'SQL', 'V1__init.sql', %s, 'postgres', 7, true)",
          flyway_checksum(v1.read_bytes()))
    with pytest.raises(InputError, match="no flyway history table") as caught:
        api.adopt(settings, "flyway")
    assert caught.value.hint == 'name it with --table: "App"."flyway_schema_history" is here'
    result = api.adopt(settings, "flyway", table="App.flyway_schema_history")
    assert result.table == "App.flyway_schema_history"
    assert [m.name for m in result.recorded] == ["V1__init.sql"]


def test_adopt_reads_pgshifts_history_only_once_it_holds_the_lock(
    settings: Settings, migrations_dir: Path, query
) -> None:
    """A runner holding the lock may change pgshift's history (here: 'redo' made V2 pgshift's
    own row); adopt, waiting meanwhile, must act on the history as it is then, not withdraw
    that row on what it read before."""
    query(FLYWAY_DDL)
    for rank, name in enumerate(["V1__a.sql", "V2__b.sql"], start=1):
        path = write(migrations_dir, name, f"CREATE TABLE t{rank} (id int);\n")
        query(path.read_text())
        flyway_row(query, rank, str(rank), name, flyway_checksum(path.read_bytes()))
    api.adopt(settings, "flyway")
    flyway_row(query, 3, "2", "U2__b.sql", None, kind="UNDO_SQL")  # Flyway undid V2 since
    holder = psycopg2.connect(settings.url)
    holder.autocommit = True
    with holder.cursor() as cur:
        cur.execute("SELECT pg_advisory_lock(%s)", (settings.lock_key,))
    outcome: list[object] = []
    waiting = threading.Thread(target=lambda: outcome.append(api.adopt(settings, "flyway")))
    waiting.start()
    time.sleep(0.5)  # adopt is waiting for the lock now
    # What 'pgshift redo V2' leaves: V2 applied by pgshift itself, no longer an adopted row.
    query("UPDATE pgshift.history SET error = NULL WHERE script = 'V2__b.sql'")
    holder.close()
    waiting.join(30)
    result = outcome[0]
    assert result.withdrawn == []  # type: ignore[attr-defined]
    assert query("SELECT script, status FROM pgshift.history WHERE kind = 'versioned' "
                 "ORDER BY key") == [("V1__a.sql", "applied"), ("V2__b.sql", "applied")]
