"""``pgshift squash`` with Flyway-style callbacks: the baseline is the database 'up' builds,
callbacks around each migration included (a new database runs them around the baseline)."""

from __future__ import annotations

import dataclasses
from pathlib import Path

import pytest
from tests.fixtures.project import schema_of

from pgshift import api
from pgshift.errors import InputError

WHERE_T = "SELECT table_schema FROM information_schema.tables WHERE table_name = 't'"


def test_a_baseline_puts_objects_where_the_callbacks_around_each_migration_put_them(
    settings, migrations_dir: Path, fresh, query
) -> None:
    (migrations_dir / "beforeEachMigrate.sql").write_text("SET LOCAL search_path = app, public;\n")
    (migrations_dir / "V1__t.sql").write_text(
        "-- pgshift:irreversible\nCREATE SCHEMA app;\nCREATE TABLE t (id int);\n")
    api.up(settings)
    assert query(WHERE_T) == [("app",)]
    squashed = api.squash(settings)
    assert "CREATE TABLE app.t" in squashed.path.read_text()
    api.up(fresh)  # a new database: the baseline, with the callback around it
    assert schema_of(fresh.url) == schema_of(settings.url)


def test_a_callback_replayed_inside_each_migration_may_not_use_a_placeholder(
    settings, migrations_dir: Path
) -> None:
    (migrations_dir / "afterEachMigrate.sql").write_text("GRANT SELECT ON t TO ${reader};\n")
    (migrations_dir / "V1__t.sql").write_text(
        "-- pgshift:irreversible\nCREATE TABLE t (id int);\n")
    with pytest.raises(InputError, match=r"uses the placeholder \$\{reader\}") as caught:
        api.squash(dataclasses.replace(settings, placeholders={"reader": "app_reader"}))
    assert str(caught.value.path) == str(migrations_dir / "afterEachMigrate.sql")
    assert list(migrations_dir.glob("B*")) == []
