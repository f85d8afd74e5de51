"""What a failing run callback says: which work it undid, and which stays done."""

from __future__ import annotations

from pathlib import Path

import pytest

from pgshift import api
from pgshift.config import Settings
from pgshift.errors import MigrationFailedError

A = "CREATE TABLE a (id int);\n-- pgshift:down\nDROP TABLE a;\n"


def test_a_failing_after_migrate_says_the_migrations_stay_applied(
        settings: Settings, migrations_dir: Path, query, cli) -> None:
    """afterMigrate runs after the migrations committed: only the callback is rolled back."""
    (migrations_dir / "V1__a.sql").write_text(A)
    (migrations_dir / "afterMigrate.sql").write_text("SELECT 1;\nSELECT * FROM nope;\n")
    with pytest.raises(MigrationFailedError) as info:
        api.up(settings)
    assert str(info.value) == (
        'afterMigrate.sql:2: callback afterMigrate failed: relation "nope" does not exist '
        "[42P01]; the callback was rolled back, the migrations this run applied stay applied")
    assert query("SELECT to_regclass('a') IS NOT NULL") == [(True,)]
    assert [i.state for i in api.status(settings).items] == ["applied"]
    logged = cli("log")
    assert "the migrations this run applied stay applied" in logged.stdout


def test_a_failing_before_migrate_says_nothing_was_applied(
        settings: Settings, migrations_dir: Path, query) -> None:
    (migrations_dir / "V1__a.sql").write_text(A)
    (migrations_dir / "beforeMigrate.sql").write_text("SELECT * FROM nope;\n")
    with pytest.raises(MigrationFailedError) as info:
        api.up(settings)
    assert str(info.value).endswith("[42P01]; the callback was rolled back, and no migration "
                                    "ran")
    assert query("SELECT to_regclass('a')") == [(None,)]


def test_a_failing_after_undo_says_the_migrations_stay_rolled_back(
        settings: Settings, migrations_dir: Path, query) -> None:
    (migrations_dir / "V1__a.sql").write_text(A)
    api.up(settings)
    (migrations_dir / "afterUndo.sql").write_text("SELECT * FROM nope;\n")
    with pytest.raises(MigrationFailedError) as info:
        api.down(settings)
    assert str(info.value).endswith("[42P01]; the callback was rolled back, the migrations "
                                    "this run rolled back stay rolled back")
    assert query("SELECT to_regclass('a')") == [(None,)]
