"""pgshift's own tables carry a version: an older pgshift never writes into a newer one's."""

from __future__ import annotations

import pytest

from pgshift import api
from pgshift.errors import InputError
from pgshift.state.upgrades import SCHEMA_VERSION


@pytest.fixture
def newer(settings, write_migration, query) -> None:
    """V001 applied, V002 pending, and the tables marked as a newer pgshift's."""
    write_migration("V001__a.sql", "CREATE TABLE a (id int);", "DROP TABLE a;")
    api.up(settings)
    write_migration("V002__b.sql", "CREATE TABLE b (id int);", "DROP TABLE b;")
    query("UPDATE pgshift.meta SET value = %s WHERE key = 'schema_version'",
          str(SCHEMA_VERSION + 1))


def _history(query) -> list[tuple]:
    return query("SELECT key, status FROM pgshift.history ORDER BY key")


WRITERS = {
    "up": api.up,
    "down": api.down,
    "redo": api.redo,
    "baseline": lambda settings: api.baseline(settings, "2"),
    # a row of a kind this pgshift does not know reads as a missing file
    "repair --remove-missing": lambda settings: api.repair(settings, remove_missing=True),
}


@pytest.mark.parametrize("verb", list(WRITERS))
def test_every_writer_refuses_a_history_a_newer_pgshift_wrote(settings, newer, query,
                                                              migrations_dir, verb) -> None:
    if verb.startswith("repair"):
        (migrations_dir / "V001__a.sql").unlink()
    before = _history(query)
    with pytest.raises(InputError, match="written by a newer pgshift") as caught:
        WRITERS[verb](settings)
    assert caught.value.hint == "upgrade pgshift before running it on this database"
    assert _history(query) == before
    assert query("SELECT to_regclass('b') IS NULL, to_regclass('a') IS NOT NULL") == [
        (True, True)]


def test_the_cli_names_both_versions_and_exits_2(cli, newer) -> None:
    result = cli("up")
    assert result.returncode == 2
    assert (f"their version {SCHEMA_VERSION + 1}; this one knows up to {SCHEMA_VERSION}"
            in result.stderr)
    assert "Traceback" not in result.stderr


def test_status_still_reads_a_newer_history(settings, newer) -> None:
    """Reading changes nothing: a look at what is applied stays possible before upgrading."""
    states = {i.migration.name: i.state for i in api.status(settings).items
              if i.migration is not None}
    assert states == {"V001__a.sql": "applied", "V002__b.sql": "pending"}
