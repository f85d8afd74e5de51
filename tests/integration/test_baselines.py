"""Baseline migrations (``B{version}__….sql``): a new database is built from the newest one
instead of replaying the versioned migrations it holds; a database that ran those migrations
never runs it; once every database is past it, their files may go."""

from __future__ import annotations

import dataclasses

import pytest

from pgshift import api
from pgshift.errors import DriftError, InputError, IrreversibleError
from pgshift.state.upgrades import SCHEMA_VERSION

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


def test_a_baseline_is_irreversible_without_saying_so(settings, three, write_migration) -> None:
    write_migration("B002__flyway.sql", "CREATE TABLE t1 (id int);\nCREATE TABLE t2 (id int);")
    assert [o.migration.label for o in api.up(settings).outcomes] == ["B002", "V003"]
    with pytest.raises(IrreversibleError, match="built from a baseline"):
        api.down(settings, steps=2)


def test_a_baseline_with_a_down_part_is_refused_naming_the_file(
    settings, three, write_migration
) -> None:
    write_migration("B002__squashed.sql", "CREATE TABLE t1 (id int);\nCREATE TABLE t2 (id int);",
                    "DROP TABLE t2;\nDROP TABLE t1;")
    with pytest.raises(InputError, match="a baseline cannot have a down part") as raised:
        api.status(settings)
    assert str(raised.value.path).endswith("B002__squashed.sql") and raised.value.line == 4
    assert raised.value.exit_code == 2


def test_rolling_back_below_the_baseline_names_it(settings, three, write_migration) -> None:
    write_migration("B002__squashed.sql", BASELINE_2)
    api.up(settings)
    plan = api.rollback_plan(settings, "1")
    assert [(s.label, s.blocker) for s in plan.steps] == [
        ("V003", None),
        ("B002", "is the baseline this database was built from: below it there is only an "
                 "empty database")]
    with pytest.raises(IrreversibleError, match="cannot roll back to 1: B002 is the baseline") \
            as raised:
        plan.check()
    assert "make a new database" in (raised.value.hint or "")


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


def squashed(first: str, last: str, count: int, body: str, holds: str = "") -> str:
    """A baseline's text headed as 'pgshift squash' heads it: what it holds (``holds``: the
    labels of its '-- Holds:' line, which squash writes now; without it, as it first did)."""
    return (f"-- pgshift:irreversible\n-- The database that {first} … {last} ({count} "
            "migrations) build, written by\n-- 'pgshift squash' on 2026-01-01 00:00 UTC from a "
            f"replay on PostgreSQL 16, and checked\n"
            + (f"-- Holds: {holds}\n" if holds else "") + f"\n{body}")


def test_a_baseline_that_names_what_it_holds_tells_a_late_file_from_a_deleted_one(
    settings, write_migration, migrations_dir, query
) -> None:
    for i in range(1, 6):
        write_migration(f"V00{i}__t{i}.sql", f"CREATE TABLE t{i} (id int);", f"DROP TABLE t{i};")
    write_migration("B004__squashed.sql", squashed(
        "V001__t1.sql", "V004__t4.sql", 4, "".join(f"CREATE TABLE t{i} (id int);\n"
                                                   for i in range(1, 5)),
        holds="V001 V002 V003 V004"))
    api.up(settings, to="1")
    for name in ("V002__t2.sql", "V003__t3.sql"):
        (migrations_dir / name).unlink()
    write_migration("V002.5__late.sql", "CREATE TABLE late (id int);", "DROP TABLE late;")
    with pytest.raises(DriftError, match=r"this database has not run V002, V003, which "
                       r"B004__squashed\.sql holds"):
        api.up(settings, out_of_order=True)
    assert tables(query) == ["t1"]


@pytest.fixture
def five(write_migration) -> None:
    """V001..V005, and B004 as 'pgshift squash --to 4' writes it."""
    for i in range(1, 6):
        write_migration(f"V00{i}__t{i}.sql", f"CREATE TABLE t{i} (id int);", f"DROP TABLE t{i};")
    write_migration("B004__squashed.sql", squashed(
        "V001__t1.sql", "V004__t4.sql", 4, "".join(f"CREATE TABLE t{i} (id int);\n"
                                                   for i in range(1, 5))))


@pytest.mark.parametrize(("at", "deleted", "lacking"), [
    ("1", ["V004__t4.sql"], "V004"),
    ("1", ["V002__t2.sql"], "1 of the migrations between V001 and V004"),
    ("2", ["V003__t3.sql"], "1 of the migrations between V001 and V004"),
    ("1", ["V002__t2.sql", "V003__t3.sql", "V004__t4.sql"],
     "V004, 2 of the migrations between V001 and V004"),
])
def test_a_database_behind_the_baseline_that_lacks_a_file_it_holds_never_passes_it(
    settings, five, migrations_dir, query, at, deleted, lacking
) -> None:
    api.up(settings, to=at)
    for name in deleted:
        (migrations_dir / name).unlink()
    with pytest.raises(DriftError, match=f"this database has not run {lacking}, which "
                       r"B004__squashed\.sql holds") as raised:
        api.up(settings)
    assert raised.value.exit_code == 3
    assert len(tables(query)) == int(at)  # V005 did not run over the gap


@pytest.mark.parametrize(("at", "deleted"), [
    ("0", ["V001__t1.sql", "V002__t2.sql"]),  # a new database: built from the baseline
    ("1", ["V001__t1.sql"]),  # applied already: the ones after it are all there
    ("2", ["V001__t1.sql", "V002__t2.sql"]),
    ("4", ["V001__t1.sql", "V002__t2.sql", "V003__t3.sql", "V004__t4.sql"]),
])
def test_a_database_with_all_the_baseline_holds_passes_it_when_files_are_deleted(
    settings, five, migrations_dir, query, at, deleted
) -> None:
    if at != "0":
        api.up(settings, to=at)
    for name in deleted:
        (migrations_dir / name).unlink()
    assert api.validate(settings).drift() == []
    api.up(settings)
    assert tables(query) == ["t1", "t2", "t3", "t4", "t5"]


def test_a_flyway_database_behind_a_hand_written_baseline_needs_the_files_up_to_it(
    settings, three, write_migration, migrations_dir, query
) -> None:
    api.up(settings, to="1")
    write_migration("B002__flyway.sql", BASELINE_2)  # says nothing of what it holds
    (migrations_dir / "V002__t2.sql").unlink()
    with pytest.raises(DriftError, match="ran migrations up to 001 only, and the files "
                       r"B002__flyway\.sql holds after that are gone"):
        api.up(settings)
    assert tables(query) == ["t1"]


@pytest.fixture
def hotfix(settings, fresh, write_migration) -> tuple:
    """B002 (squashed from V001..V002) and V003; then V001.5, a hotfix merged after the squash
    from an old branch: a database that ran the migrations, one built from the baseline and a
    new one."""
    write_migration("V001__t1.sql", "CREATE TABLE t1 (id int);", "DROP TABLE t1;")
    write_migration("V002__t2.sql", "CREATE TABLE t2 (id int);", "DROP TABLE t2;")
    api.up(settings)
    write_migration("B002__squashed.sql", squashed("V001__t1.sql", "V002__t2.sql", 2, BASELINE_2))
    write_migration("V003__t3.sql", "CREATE TABLE t3 (id int);", "DROP TABLE t3;")
    api.up(fresh)
    write_migration("V001.5__hotfix.sql", "ALTER TABLE t1 ADD COLUMN fix int;",
                    "ALTER TABLE t1 DROP COLUMN fix;")
    return settings, fresh


def test_a_file_added_below_a_baseline_is_out_of_order_where_it_was_built_from_it(
    hotfix, query
) -> None:
    old, built = hotfix
    for settings in (old, built):
        [item] = [i for i in api.status(settings).items if i.script == "V001.5__hotfix.sql"]
        assert item.state == "out-of-order"
        with pytest.raises(DriftError, match="out-of-order"):
            api.up(settings)
        ran = [o.migration.name for o in api.up(settings, out_of_order=True).outcomes]
        assert ran[:1] == ["V001.5__hotfix.sql"]
        assert api.validate(settings).drift() == []
    assert "not in B002__squashed.sql" in item.detail


def test_a_new_database_runs_a_file_added_below_its_baseline_right_after_it(
    hotfix, admin_url, template_database
) -> None:
    old, _ = hotfix
    from tests.fixtures.pg import create_database, drop_database, url_with_dbname

    name = create_database(admin_url, template_database)
    try:
        new = dataclasses.replace(old, url=url_with_dbname(admin_url, name))
        assert [m.name for m in api.status(new).pending()] == [
            "B002__squashed.sql", "V001.5__hotfix.sql", "V003__t3.sql"]
        assert [o.migration.name for o in api.up(new).outcomes] == [
            "B002__squashed.sql", "V001.5__hotfix.sql", "V003__t3.sql"]
        assert api.validate(new).drift() == []
    finally:
        drop_database(admin_url, name)


def test_more_files_below_a_baseline_than_it_holds_is_drift_where_it_builds_the_database(
    settings, five, write_migration
) -> None:
    write_migration("V002.5__late.sql", "CREATE TABLE late (id int);", "DROP TABLE late;")
    with pytest.raises(DriftError, match="changed: more files below it than it holds"):
        api.up(settings)
    assert api.status(settings).applied() == []
