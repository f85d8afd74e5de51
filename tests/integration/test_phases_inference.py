"""Phases: what the old application version cannot survive is contract, however it is written
(SET SCHEMA, an enum value renamed, an extension dropped, a repeatable dropping a column), and
``--phase expand`` stops before it, in a run and in a script."""

from __future__ import annotations

import pytest

from pgshift import api
from pgshift.migrations.discover import discover_migrations
from pgshift.phases import phase_of


@pytest.mark.parametrize("statement", [
    "ALTER TABLE users SET SCHEMA archive;",
    "ALTER TYPE mood RENAME VALUE 'sad' TO 'unhappy';",
    "DROP EXTENSION hstore;",
    "ALTER PROCEDURE p() RENAME TO q;",
    "ALTER FUNCTION f(int) SET SCHEMA archive;",
    "ALTER VIEW v SET\n  SCHEMA archive;",
])
def test_what_the_old_version_no_longer_finds_is_contract(
    write_migration, migrations_dir, statement: str
) -> None:
    write_migration("V1__x.sql", statement, "SELECT 1;")
    [migration] = discover_migrations(migrations_dir)
    assert phase_of(migration) == "contract"


def test_phase_expand_does_not_move_a_table_out_of_the_apps_schema(
    settings, write_migration, query
) -> None:
    write_migration("V1__users.sql", "CREATE TABLE users (id int);\nCREATE SCHEMA archive;",
                    "DROP SCHEMA archive;\nDROP TABLE users;")
    write_migration("V2__move.sql", "ALTER TABLE users SET SCHEMA archive;",
                    "ALTER TABLE archive.users SET SCHEMA public;")
    result = api.up(settings, phase="expand")
    assert [m.label for m in result.selected] == ["V1"]
    assert query("SELECT to_regclass('public.users') IS NOT NULL") == [(True,)]
    script = api.script(settings, phase="expand")
    assert script.migrations == ()


def test_a_repeatable_dropping_a_column_waits_for_the_contract_phase(
    settings, write_migration, query
) -> None:
    write_migration("V1__users.sql", "CREATE TABLE users (id int, legacy text);",
                    "DROP TABLE users;")
    write_migration("R__cleanup.sql", "ALTER TABLE users DROP COLUMN IF EXISTS legacy;")
    write_migration("R__a_view.sql", "DROP VIEW IF EXISTS user_ids;\n"
                                   "CREATE VIEW user_ids AS SELECT id FROM users;")
    result = api.up(settings, phase="expand")
    assert sorted(m.name for m in result.selected) == ["R__a_view.sql", "V1__users.sql"]
    assert query("SELECT count(*) FROM information_schema.columns WHERE table_name = 'users' "
                 "AND column_name = 'legacy'") == [(1,)]
    assert [m.name for m in api.up(settings).selected] == ["R__cleanup.sql"]
