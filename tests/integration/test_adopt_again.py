"""Adopting again once pgshift runs the database: the other tool's table, which pgshift never
writes, no longer says what is applied for what pgshift took back since."""

from __future__ import annotations

from pathlib import Path

from tests.integration.test_adopt import GOLANG_DDL, write

from pgshift import api
from pgshift.config import Settings


def test_adopting_again_after_pgshift_rolled_back_an_adopted_migration_leaves_it_pending(
    settings: Settings, migrations_dir: Path, query
) -> None:
    for number in (1, 2):
        write(migrations_dir, f"{number}_t.up.sql", f"CREATE TABLE t{number} (id int);\n")
        write(migrations_dir, f"{number}_t.down.sql", f"DROP TABLE t{number};\n")
        query(f"CREATE TABLE t{number} (id int)")
    query(GOLANG_DDL)
    query("INSERT INTO schema_migrations VALUES (2, false)")  # golang-migrate applied 1 and 2
    api.adopt(settings, "golang-migrate")
    api.down(settings)  # pgshift rolls 2 back; golang-migrate's table still says 2
    again = api.adopt(settings, "golang-migrate")  # e.g. a deploy script's 'adopt && up'
    assert again.recorded == []
    assert [m.name for m in again.pending] == ["2_t.up.sql"]
    assert {i.script: i.state for i in api.status(settings).items} == {
        "1_t.up.sql": "applied", "2_t.up.sql": "pending"}
    assert [o.migration.name for o in api.up(settings).outcomes] == ["2_t.up.sql"]
    assert query("SELECT to_regclass('t2') IS NOT NULL") == [(True,)]
