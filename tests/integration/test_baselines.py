"""Baseline migrations (``B{version}__….sql``): a new database is built from the newest one
instead of replaying the versioned migrations it holds; a database that ran those migrations
never runs it; once every database is past it, their files may go."""

from __future__ import annotations

import pytest

from pgshift import api
from pgshift.errors import DriftError, InputError, IrreversibleError
from pgshift.state.history import SCHEMA_VERSION

BASELINE_2 = "-- pgshift:irreversible\nCREATE TABLE t1 (id int);\nCREATE TABLE t2 (id int);"


@pytest.fixture
def three(write_migration) -> None:
    for i in (1, 2, 3):
        write_migration(f"V00{i}__t{i}.sql", f"CREATE TABLE t{i} (id int);", f"DROP TABLE t{i};")


def states(settings) -> list[tuple[str, str | None, str]]:
    return [(i.state, i.version, i.script) for i in api.status(settings).items]


def tables(query) -> list[str]:
    return [r[0] for r in query("SELECT relname::text FROM pg_class WHERE relkind = 'r' AND "
                                "relnamespace = 'public'::regnamespace ORDER BY 1")]


def test_a_new_database_is_built_from_the_baseline_then_the_migrations_after_it(
    settings, three, write_migration, query
) -> None:
    write_migration("B002__squashed.sql", BASELINE_2)
    # V003 creates its table unqualified: the baseline's own settings ended with it.
    ran = api.up(settings)
    assert [o.migration.label for o in ran.outcomes] == ["B002", "V003"]
    assert tables(query) == ["t1", "t2", "t3"]
    assert states(settings) == [
        ("below-baseline", "001", "V001__t1.sql"),
        ("below-baseline", "002", "V002__t2.sql"),
        ("applied", "002", "B002__squashed.sql"),
        ("applied", "003", "V003__t3.sql"),
    ]
    assert query("SELECT key, kind FROM pgshift.history ORDER BY key") == [
        ("3", "versioned"), ("B:2", "baseline")]
    assert api.validate(settings).drift() == []


def test_a_database_that_ran_the_migrations_never_runs_the_baseline(
    settings, three, write_migration
) -> None:
    api.up(settings)
    write_migration("B002__squashed.sql", BASELINE_2)
    plan = api.status(settings)
    assert [(i.state, i.detail) for i in plan.items if i.kind == "baseline"] == [
        ("unused", "this database ran the versioned migrations instead")]
    assert plan.pending() == [] and plan.drift() == []
    assert api.up(settings).outcomes == []


def test_files_squashed_into_a_baseline_may_be_deleted(
    settings, fresh, three, write_migration, migrations_dir
) -> None:
    api.up(settings)
    write_migration("B003__squashed.sql", BASELINE_2 + "\nCREATE TABLE t3 (id int);")
    for name in ("V001__t1.sql", "V002__t2.sql", "V003__t3.sql"):
        (migrations_dir / name).unlink()
    write_migration("V004__t4.sql", "CREATE TABLE t4 (id int);", "DROP TABLE t4;")
    old = api.validate(settings)
    assert old.drift() == []
    assert [(i.state, i.detail) for i in old.items if i.migration is None] == [
        ("applied", "file squashed into B003__squashed.sql")] * 3
    assert [o.migration.label for o in api.up(settings).outcomes] == ["V004"]
    assert [o.migration.label for o in api.up(fresh).outcomes] == ["B003", "V004"]
    with pytest.raises(DriftError, match="its file is missing"):
        api.down(settings, steps=2)  # V003 has no file to roll back with any more


def test_schema_drift_replays_the_baseline_for_files_squashed_into_it(
    settings, three, write_migration, migrations_dir, query
) -> None:
    api.up(settings)
    write_migration("B002__squashed.sql", BASELINE_2)
    for name in ("V001__t1.sql", "V002__t2.sql"):
        (migrations_dir / name).unlink()
    drift = api.schema_drift(settings)
    assert drift.ok, drift.differences
    assert drift.replayed == ["B002__squashed.sql", "V003__t3.sql"]
    query("CREATE INDEX t1_id ON t1 (id)")
    assert api.schema_drift(settings).differences == [
        "index public.t1_id: present in the database, absent after the migrations "
        "(CREATE INDEX t1_id ON public.t1 USING btree (id))"]


def test_a_database_behind_the_baseline_needs_the_files_it_holds(
    settings, three, write_migration, migrations_dir, query
) -> None:
    api.up(settings, to="1")
    write_migration("B003__squashed.sql", BASELINE_2 + "\nCREATE TABLE t3 (id int);")
    write_migration("V004__t4.sql", "CREATE TABLE t4 (id int);", "DROP TABLE t4;")
    # While the files are there, it catches up through them, not through the baseline.
    assert [m.name for m in api.up(settings, dry_run=True, to="4").selected] == [
        "V002__t2.sql", "V003__t3.sql", "V004__t4.sql"]
    for name in ("V001__t1.sql", "V002__t2.sql", "V003__t3.sql"):  # too soon for this one
        (migrations_dir / name).unlink()
    with pytest.raises(DriftError, match="ran migrations up to 001 only, and the files "
                       r"B003__squashed\.sql holds after that are gone") as raised:
        api.up(settings)
    assert "restore the versioned files it holds" in (raised.value.hint or "")
    assert tables(query) == ["t1"]  # V004 did not run over the gap


def test_a_hand_written_baseline_may_hold_versions_no_file_had(
    settings, three, write_migration
) -> None:
    write_migration("B005__flyway_style.sql", BASELINE_2 + "\nCREATE TABLE t3 (id int);")
    api.up(settings, to="2")  # below the baseline: the versioned files
    assert [o.migration.label for o in api.up(settings).outcomes] == ["V003"]
    assert api.validate(settings).drift() == []


def test_up_to_a_version_below_the_newest_baseline_starts_from_an_older_one(
    settings, three, write_migration, query
) -> None:
    write_migration("V004__t4.sql", "CREATE TABLE t4 (id int);", "DROP TABLE t4;")
    write_migration("B002__two.sql", BASELINE_2)
    write_migration("B004__four.sql", BASELINE_2 + "\nCREATE TABLE t3 (id int);\n"
                    "CREATE TABLE t4 (id int);")
    assert [m.name for m in api.status(settings).pending()] == ["B004__four.sql"]
    assert [o.migration.name for o in api.up(settings, to="3").outcomes] == [
        "B002__two.sql", "V003__t3.sql"]
    assert [o.migration.name for o in api.up(settings).outcomes] == ["V004__t4.sql"]
    assert tables(query) == ["t1", "t2", "t3", "t4"]
    assert [(i.state, i.detail) for i in api.status(settings).items
            if i.script == "B004__four.sql"] == [
        ("unused", "B002__two.sql builds this database")]


def test_a_database_built_from_a_baseline_cannot_go_below_it(
    settings, three, write_migration
) -> None:
    write_migration("B002__squashed.sql", BASELINE_2)
    api.up(settings)
    assert [o.migration.label for o in api.down(settings).outcomes] == ["V003"]
    with pytest.raises(IrreversibleError, match="built from a baseline") as raised:
        api.down(settings)
    assert raised.value.exit_code == 2  # bad input: the database is left as it was
    with pytest.raises(IrreversibleError):
        api.down(settings, everything=True)  # nothing is rolled back when one cannot be
    assert [i.state for i in api.status(settings).items][:3] == [
        "below-baseline", "below-baseline", "applied"]


def test_an_edited_baseline_is_drift_only_where_it_ran(
    settings, fresh, three, write_migration
) -> None:
    api.up(settings)  # ran the versioned migrations
    path = write_migration("B002__squashed.sql", BASELINE_2)
    api.up(fresh)  # built from the baseline
    path.write_text(path.read_text() + "-- edited\n")
    assert api.validate(settings).drift() == []
    with pytest.raises(DriftError, match="changed: file changed since it was applied"):
        api.up(fresh)


def test_a_baseline_needs_a_down_part_or_the_irreversible_mark(
    settings, three, write_migration
) -> None:
    write_migration("B002__squashed.sql", "CREATE TABLE t1 (id int);\nCREATE TABLE t2 (id int);")
    with pytest.raises(InputError, match="has no down part") as raised:
        api.up(settings)
    assert raised.value.migration == "B002"
    assert api.status(settings).applied() == []


def test_two_baselines_of_one_version_are_refused(settings, three, write_migration) -> None:
    write_migration("B002__a.sql", BASELINE_2)
    write_migration("B2__b.sql", BASELINE_2)
    with pytest.raises(InputError, match=r"duplicate version 2: also in B002__a\.sql"):
        api.status(settings)


def test_an_older_history_table_learns_the_baseline_kind(
    settings, three, write_migration, query
) -> None:
    api.up(settings, to="1")
    query("ALTER TABLE pgshift.history DROP CONSTRAINT history_kind_check, ADD CONSTRAINT "
          "history_kind_check CHECK (kind IN ('versioned', 'repeatable')); "
          "UPDATE pgshift.meta SET value = '3' WHERE key = 'schema_version'; "
          "DELETE FROM pgshift.history")
    write_migration("B002__squashed.sql", BASELINE_2)
    query("DROP TABLE t1")
    assert [o.migration.label for o in api.up(settings).outcomes] == ["B002", "V003"]
    assert query("SELECT value FROM pgshift.meta WHERE key = 'schema_version'") == [
        (str(SCHEMA_VERSION),)]


def test_status_shows_the_baseline_and_what_it_holds(cli, three, write_migration) -> None:
    write_migration("B002__squashed.sql", BASELINE_2)
    assert cli("up").returncode == 0
    lines = cli("status").stdout.splitlines()
    assert lines[1].split()[:3] == ["001", "t1", "-"]
    assert lines[1].endswith("below baseline (in B002__squashed.sql)")
    assert lines[3].split()[:2] == ["B002", "squashed"]
    assert lines[-1] == "2 applied, 0 pending, 2 below the baseline"
