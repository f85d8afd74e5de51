"""Applying, rolling back and reporting migrations on a real PostgreSQL."""

from __future__ import annotations

import dataclasses
from pathlib import Path

import pytest

from pgshift import api
from pgshift.config import Settings
from pgshift.errors import DriftError, InputError, IrreversibleError, MigrationFailedError


def states(settings: Settings) -> dict[str, str]:
    return {item.script: item.state for item in api.status(settings).items}


def tables(query) -> set[str]:
    return {r[0] for r in query("SELECT tablename FROM pg_tables WHERE schemaname = 'public'")}


@pytest.fixture
def three(write_migration) -> None:
    write_migration("V001__a.sql", "CREATE TABLE a (id int);", "DROP TABLE a;")
    write_migration("V002__b.sql", "CREATE TABLE b (id int);", "DROP TABLE b;")
    write_migration("V003__c.sql", "CREATE TABLE c (id int);", "DROP TABLE c;")


def test_up_applies_pending_migrations_in_order_and_records_each(settings, three, query) -> None:
    result = api.up(settings)
    assert [o.migration.name for o in result.outcomes] == [
        "V001__a.sql",
        "V002__b.sql",
        "V003__c.sql",
    ]
    assert tables(query) == {"a", "b", "c"}
    rows = query("SELECT version, status FROM pgshift.history ORDER BY key")
    assert rows == [("001", "applied"), ("002", "applied"), ("003", "applied")]
    assert api.up(settings).outcomes == []


def test_up_to_stops_at_the_given_version(settings, three, query) -> None:
    api.up(settings, to="2")
    assert tables(query) == {"a", "b"}
    assert states(settings)["V003__c.sql"] == "pending"


def test_failure_in_the_middle_migration_leaves_exactly_the_first_applied(
    settings, write_migration, query
) -> None:
    write_migration("V001__a.sql", "CREATE TABLE a (id int);", "DROP TABLE a;")
    write_migration(
        "V002__b.sql",
        "CREATE TABLE b (id int);\nINSERT INTO a VALUES (1);\nSELECT * FROM nope;",
        "DROP TABLE b;",
    )
    write_migration("V003__c.sql", "CREATE TABLE c (id int);", "DROP TABLE c;")
    with pytest.raises(MigrationFailedError) as caught:
        api.up(settings)
    assert caught.value.exit_code == 5
    assert caught.value.line == 3 and caught.value.path.endswith("V002__b.sql")
    assert caught.value.sqlstate == "42P01"
    assert tables(query) == {"a"}
    assert query("SELECT count(*) FROM a") == [(0,)]
    assert states(settings) == {
        "V001__a.sql": "applied",
        "V002__b.sql": "failed",
        "V003__c.sql": "pending",
    }


def test_a_failed_migration_is_retried_by_the_next_up_once_fixed(
    settings, write_migration, query
) -> None:
    write_migration("V001__a.sql", "CREATE TABLE a (id int); SELECT 1/0;", "DROP TABLE a;")
    with pytest.raises(MigrationFailedError):
        api.up(settings)
    write_migration("V001__a.sql", "CREATE TABLE a (id int);", "DROP TABLE a;")
    api.up(settings)
    assert states(settings) == {"V001__a.sql": "applied"}


def test_down_rolls_back_the_last_then_steps_then_to_then_all(
    settings, write_migration, query
) -> None:
    for n in range(1, 6):
        write_migration(f"V{n}__t{n}.sql", f"CREATE TABLE t{n} (id int);", f"DROP TABLE t{n};")
    api.up(settings)
    api.down(settings)
    assert tables(query) == {"t1", "t2", "t3", "t4"}
    api.down(settings, steps=2)
    assert tables(query) == {"t1", "t2"}
    api.up(settings)
    api.down(settings, to="3")
    assert tables(query) == {"t1", "t2", "t3"}
    api.down(settings, everything=True)
    assert tables(query) == set()
    assert query("SELECT count(*) FROM pgshift.history") == [(0,)]


def test_redo_rolls_back_and_reapplies_the_last(settings, three, query) -> None:
    api.up(settings)
    query("INSERT INTO c VALUES (1)")
    result = api.redo(settings)
    assert [(o.migration.name, o.direction) for o in result.outcomes] == [
        ("V003__c.sql", "down"),
        ("V003__c.sql", "up"),
    ]
    assert query("SELECT count(*) FROM c") == [(0,)]


def test_dry_run_changes_nothing_and_lists_the_plan(settings, three, query) -> None:
    result = api.up(settings, dry_run=True)
    assert [m.name for m in result.selected] == ["V001__a.sql", "V002__b.sql", "V003__c.sql"]
    assert tables(query) == set()
    assert query("SELECT to_regnamespace('pgshift')") == [(None,)]


def test_status_reports_every_state(settings, write_migration, migrations_dir: Path) -> None:
    write_migration("V1__applied.sql", "SELECT 1;", "SELECT 1;")
    write_migration("V2__changed.sql", "SELECT 2;", "SELECT 1;")
    write_migration("V3__missing.sql", "SELECT 3;", "SELECT 1;")
    write_migration("V5__applied_later.sql", "SELECT 5;", "SELECT 1;")
    api.up(settings)
    write_migration("V2__changed.sql", "SELECT 22;", "SELECT 1;")
    (migrations_dir / "V3__missing.sql").unlink()
    write_migration("V4__out_of_order.sql", "SELECT 4;", "SELECT 1;")
    write_migration("V6__pending.sql", "SELECT 6;", "SELECT 1;")
    assert states(settings) == {
        "V1__applied.sql": "applied",
        "V2__changed.sql": "changed",
        "V3__missing.sql": "missing",
        "V4__out_of_order.sql": "out-of-order",
        "V5__applied_later.sql": "applied",
        "V6__pending.sql": "pending",
    }
    with pytest.raises(DriftError) as caught:
        api.validate(settings)
    assert caught.value.exit_code == 3
    with pytest.raises(DriftError):
        api.up(settings)


def test_line_ending_or_bom_changes_are_not_drift(settings, migrations_dir: Path) -> None:
    path = migrations_dir / "V1__a.sql"
    path.write_bytes(b"SELECT 1;\n-- pgshift:down\nSELECT 2;\n")
    api.up(settings)
    path.write_bytes(b"\xef\xbb\xbfSELECT 1;\r\n-- pgshift:down\r\nSELECT 2;\r\n")
    assert api.validate(settings).items[0].state == "applied"


def test_repair_accepts_changed_checksums_and_clears_failures(settings, write_migration) -> None:
    write_migration("V1__a.sql", "SELECT 1;", "SELECT 1;")
    write_migration("V2__b.sql", "SELECT 1/0;", "SELECT 1;")
    with pytest.raises(MigrationFailedError):
        api.up(settings)
    write_migration("V1__a.sql", "SELECT 11;", "SELECT 1;")
    result = api.repair(settings)
    assert result.accepted_checksums == ["V1__a.sql"]
    assert result.cleared == ["V2__b.sql"]
    assert states(settings) == {"V1__a.sql": "applied", "V2__b.sql": "pending"}


@pytest.mark.parametrize(("down", "after_repair"), [
    ("SELECT 1/0;\nDROP TABLE a;", "applied"),  # none of the down ran: it is applied
    ("DROP TABLE a;\nSELECT 1/0;", "failed"),  # part-way: only 'pgshift down' can finish it
])
def test_repair_of_an_interrupted_down_never_claims_what_did_not_happen(
    settings, write_migration, query, down, after_repair
) -> None:
    write_migration("V1__a.sql", "CREATE TABLE a (id int);", down,
                    header="-- pgshift:no-transaction")
    api.up(settings)
    with pytest.raises(MigrationFailedError, match="earlier statements stay done"):
        api.down(settings)
    api.repair(settings)
    assert states(settings) == {"V1__a.sql": after_repair}


def test_baseline_marks_migrations_applied_without_running_them(settings, three, query) -> None:
    api.baseline(settings, "2")
    assert tables(query) == set()
    assert states(settings) == {
        "V001__a.sql": "applied",
        "V002__b.sql": "applied",
        "V003__c.sql": "pending",
    }
    api.up(settings)
    assert tables(query) == {"c"}


def test_a_migration_without_down_is_refused_unless_marked_irreversible(
    settings, write_migration, query
) -> None:
    write_migration("V1__a.sql", "CREATE TABLE a (id int);")
    with pytest.raises(InputError, match="no down part"):
        api.up(settings)
    assert tables(query) == set()
    write_migration("V1__a.sql", "CREATE TABLE a (id int);", header="-- pgshift:irreversible")
    api.up(settings)
    with pytest.raises(IrreversibleError, match="irreversible"):
        api.down(settings)
    assert tables(query) == {"a"}


def test_concurrently_in_a_transactional_file_is_refused_before_anything_runs(
    settings, write_migration, query
) -> None:
    write_migration("V1__a.sql", "CREATE TABLE a (id int);", "DROP TABLE a;")
    write_migration(
        "V2__i.sql", "CREATE INDEX CONCURRENTLY i ON a (id);", "DROP INDEX i;", header="-- an index"
    )
    with pytest.raises(InputError, match="cannot run inside a transaction block") as caught:
        api.up(settings)
    assert caught.value.line == 2
    assert "no-transaction" in (caught.value.hint or "")
    assert tables(query) == set()


def test_no_transaction_file_builds_an_index_concurrently(settings, write_migration, query) -> None:
    write_migration("V1__a.sql", "CREATE TABLE a (id int);", "DROP TABLE a;")
    write_migration(
        "V2__i.sql",
        "CREATE INDEX CONCURRENTLY i ON a (id);",
        "DROP INDEX CONCURRENTLY i;",
        header="-- pgshift:no-transaction",
    )
    api.up(settings)
    assert query("SELECT indisvalid FROM pg_index WHERE indexrelid = 'i'::regclass") == [(True,)]
    api.down(settings)
    assert query("SELECT to_regclass('i')") == [(None,)]


def test_invalid_index_from_an_interrupted_build_is_rebuilt(
    settings, write_migration, query
) -> None:
    write_migration(
        "V1__a.sql", "CREATE TABLE a (id int); INSERT INTO a VALUES (1), (1);", "DROP TABLE a;"
    )
    write_migration(
        "V2__i.sql",
        "CREATE UNIQUE INDEX CONCURRENTLY IF NOT EXISTS i ON a (id);",
        "DROP INDEX CONCURRENTLY i;",
        header="-- pgshift:no-transaction",
    )
    with pytest.raises(MigrationFailedError, match="could not create unique index"):
        api.up(settings)
    assert query("SELECT indisvalid FROM pg_index WHERE indexrelid = 'i'::regclass") == [(False,)]
    assert states(settings)["V2__i.sql"] == "failed"
    query("DELETE FROM a WHERE ctid = (SELECT max(ctid) FROM a)")
    api.up(settings)
    assert query("SELECT indisvalid FROM pg_index WHERE indexrelid = 'i'::regclass") == [(True,)]


def test_repeatable_migrations_rerun_when_their_checksum_changes(
    settings, write_migration, query
) -> None:
    write_migration("V1__a.sql", "CREATE TABLE a (id int);", "DROP TABLE a;")
    write_migration("R__view.sql", "CREATE OR REPLACE VIEW v AS SELECT 1 AS x;")
    assert len(api.up(settings).outcomes) == 2
    assert api.up(settings).outcomes == []
    write_migration("R__view.sql", "CREATE OR REPLACE VIEW v AS SELECT 1 AS x, 2 AS y;")
    assert [o.migration.name for o in api.up(settings).outcomes] == ["R__view.sql"]
    assert query("SELECT y FROM v") == [(2,)]


def test_a_repeatable_whose_new_text_fails_stays_applied_as_it_was(
    settings, write_migration, query, migrations_dir: Path
) -> None:
    write_migration("R__view.sql", "CREATE OR REPLACE VIEW v AS SELECT 1 AS x;")
    api.up(settings)
    applied_at = query("SELECT applied_at FROM pgshift.history")
    write_migration("R__view.sql", "CREATE OR REPLACE VIEW v AS SELECT 1/0 AS x FROM nowhere;")
    with pytest.raises(MigrationFailedError):
        api.up(settings)
    assert query("SELECT status, applied_at FROM pgshift.history") == [
        ("applied", applied_at[0][0])]
    (item,) = api.status(settings).items
    assert item.state == "pending"
    assert item.detail.startswith(
        "changed, will be re-applied; the last attempt failed: R__view.sql:1: ")
    assert 'relation "nowhere" does not exist' in item.detail
    (migrations_dir / "R__view.sql").unlink()
    (item,) = api.status(settings).items
    assert (item.state, item.detail) == ("applied", "file removed")


def test_a_repeatable_that_runs_again_after_a_failed_attempt_forgets_the_failure(
    settings, write_migration
) -> None:
    write_migration("R__view.sql", "CREATE OR REPLACE VIEW v AS SELECT 1 AS x;")
    api.up(settings)
    write_migration("R__view.sql", "CREATE OR REPLACE VIEW v AS SELECT 1/0 AS x FROM nowhere;")
    with pytest.raises(MigrationFailedError):
        api.up(settings)
    write_migration("R__view.sql", "CREATE OR REPLACE VIEW v AS SELECT 2 AS x;")
    api.up(settings)
    (item,) = api.status(settings).items
    assert (item.state, item.detail, item.entry.error) == ("applied", "", None)


def test_single_transaction_runs_all_or_nothing(settings, write_migration, query) -> None:
    write_migration("V1__a.sql", "CREATE TABLE a (id int);", "DROP TABLE a;")
    write_migration("V2__b.sql", "CREATE TABLE b (id int); SELECT 1/0;", "DROP TABLE b;")
    together = dataclasses.replace(settings, single_transaction=True)
    with pytest.raises(MigrationFailedError):
        api.up(together)
    assert tables(query) == set()
    write_migration("V2__b.sql", "CREATE TABLE b (id int);", "DROP TABLE b;")
    assert len(api.up(together).outcomes) == 2


def test_syntax_error_is_reported_with_its_line_before_anything_runs(
    settings, write_migration, query
) -> None:
    write_migration("V1__a.sql", "CREATE TABLE a (id int);", "DROP TABLE a;")
    write_migration(
        "V2__b.sql", "CREATE TABLE b (id int);\n\nCREAT TABLE c (id int);", "DROP TABLE b;"
    )
    with pytest.raises(InputError, match="syntax error") as caught:
        api.up(settings)
    assert caught.value.line == 3
    assert str(caught.value) == 'V2__b.sql:3: syntax error at or near "CREAT"'
    assert tables(query) == set()


def test_create_writes_the_next_version_with_the_same_padding(settings, write_migration) -> None:
    write_migration("V007__a.sql", "SELECT 1;", "SELECT 1;")
    path = api.create(settings, "add user timezone")
    assert path.name == "V008__add_user_timezone.sql"
    assert "-- pgshift:down" in path.read_text()


def test_a_blank_down_part_is_refused_but_a_comment_saying_why_is_enough(
    settings, migrations_dir: Path, query
) -> None:
    path = api.create(settings, "add index")  # the template's down part is blank
    text = path.read_text().replace("\n\n\n-- pgshift:down", "\nSELECT 1;\n-- pgshift:down")
    path.write_text(text)
    with pytest.raises(InputError, match="blank"):
        api.up(settings)
    path.write_text(path.read_text() + "-- nothing to undo: it only reads\n")
    assert len(api.up(settings).outcomes) == 1


def test_files_in_subfolders_apply_in_version_order_and_may_move_between_folders(
        settings, migrations_dir: Path, query) -> None:
    (migrations_dir / "release_2").mkdir()
    (migrations_dir / "V001__a.sql").write_text(
        "CREATE TABLE a (id int);\n-- pgshift:down\nDROP TABLE a;\n")
    (migrations_dir / "release_2" / "V002__b.sql").write_text(
        "CREATE TABLE b (a_id int);\n-- pgshift:down\nDROP TABLE b;\n")
    (migrations_dir / "V003__c.sql").write_text(
        "ALTER TABLE b ADD COLUMN c int;\n-- pgshift:down\nALTER TABLE b DROP COLUMN c;\n")
    assert [o.migration.name for o in api.up(settings).outcomes] == [
        "V001__a.sql", "V002__b.sql", "V003__c.sql"]
    (migrations_dir / "release_1").mkdir()
    (migrations_dir / "V001__a.sql").rename(migrations_dir / "release_1" / "V001__a.sql")
    assert set(states(settings).values()) == {"applied"}
    api.validate(settings)
    api.down(settings, everything=True)
    assert tables(query) == set()


def test_a_resumed_drop_of_an_index_that_is_not_there_does_not_claim_it_was_dropped(
        cli, migrations_dir: Path, query) -> None:
    query("CREATE TABLE t (a int, b int)")
    (migrations_dir / "V1__idx.sql").write_text(
        "-- pgshift:no-transaction\nCREATE INDEX CONCURRENTLY t_a ON t (a);\n"
        "-- pgshift:down\nDROP INDEX CONCURRENTLY t_nope;\nDROP INDEX CONCURRENTLY t_a;\n")
    assert cli("up").returncode == 0
    failed = cli("down")
    assert failed.returncode == 5 and 't_nope" does not exist' in failed.stderr
    again = cli("down")
    assert again.returncode == 0, again.stderr
    output = again.stdout + again.stderr
    assert "t_nope is not there (dropped before the interruption, or never made)" in output
    assert query("SELECT to_regclass('t_a')") == [(None,)]


def test_a_no_transaction_migration_over_its_budget_says_its_earlier_statements_stay(
        settings, migrations_dir: Path, query) -> None:
    (migrations_dir / "V1__slow.sql").write_text(
        "-- pgshift:no-transaction\n-- pgshift:timeout 1s\nCREATE TABLE a (id int);\n"
        "SELECT pg_sleep(5);\n-- pgshift:down\nDROP TABLE a;\n")
    with pytest.raises(MigrationFailedError) as failed:
        api.up(settings)
    assert "exceeded the migration's 1s budget; cancelled; its earlier statements stay done, " \
           "and the next run goes on from line 4" in str(failed.value)
    assert tables(query) == {"a"}


INTERRUPTED = ("-- pgshift:no-transaction\n-- pgshift:timeout 1s\nCREATE TABLE a (id int);\n"
               "SELECT pg_sleep(3);\nCREATE INDEX CONCURRENTLY a_id ON a (id);\n"
               "-- pgshift:down\nDROP TABLE a;\n")


def test_an_edit_above_where_an_interrupted_run_stopped_is_drift_one_below_is_the_fix(
        settings, migrations_dir: Path, query) -> None:
    path = migrations_dir / "V1__nt.sql"
    path.write_text(INTERRUPTED)
    with pytest.raises(MigrationFailedError):
        api.up(settings)  # over its budget at the sleep: one statement done
    path.write_text(INTERRUPTED.replace("CREATE TABLE a (id int);\n",
                                        "CREATE TABLE a (id int, email text);\n"))
    with pytest.raises(DriftError, match="changed above where its interrupted up stopped: its "
                                         "first 1 statement") as refused:
        api.up(settings)
    assert refused.value.line == 3 and "restore those statements" in str(refused.value)
    with pytest.raises(DriftError, match="changed above where its interrupted up stopped"):
        api.validate(settings)
    assert query("SELECT status, statements_done FROM pgshift.history") == [("running", 1)]
    path.write_text(INTERRUPTED.replace("SELECT pg_sleep(3);\n", "SELECT 1;\n"))
    assert [o.migration.name for o in api.up(settings).outcomes] == ["V1__nt.sql"]
    assert query("SELECT status FROM pgshift.history") == [("applied",)]
    assert query("SELECT count(*) FROM pg_attribute WHERE attrelid = 'a'::regclass "
                 "AND attname = 'email'") == [(0,)]


def test_repair_of_an_up_stopped_part_way_says_what_stays(cli, migrations_dir: Path) -> None:
    (migrations_dir / "V1__nt.sql").write_text(INTERRUPTED)
    assert cli("up").returncode == 5
    repaired = cli("repair")
    assert repaired.returncode == 0
    assert "cleared failed entry: V1__nt.sql\n  V1__nt.sql stopped part-way: what its first " \
           "statements made is still there" in repaired.stdout


def test_a_timeout_of_0_is_no_budget_as_for_postgresqls_own_timeouts(
        settings, write_migration, query) -> None:
    write_migration("V1__slow.sql", "SELECT pg_sleep(1.2);\nCREATE TABLE a (id int);",
                    "DROP TABLE a;", header="-- pgshift:timeout 0")
    write_migration("V2__t.sql", "CREATE TABLE b (id int);", "DROP TABLE b;")
    api.up(dataclasses.replace(settings, timeout=1.0))
    api.down(settings, everything=True)
    api.up(dataclasses.replace(settings, timeout=0))
    assert tables(query) == {"a", "b"}


def test_down_to_a_version_no_migration_has_is_bad_input_as_for_up(
        settings, write_migration, query) -> None:
    write_migration("V1__a.sql", "CREATE TABLE a (id int);", "DROP TABLE a;")
    api.up(settings)
    with pytest.raises(InputError, match="no migration with version 7"):
        api.down(settings, to="7")
    assert tables(query) == {"a"}
    api.down(settings, to="0")
    assert tables(query) == set()


def test_down_to_a_version_past_a_missing_file_is_refused_before_anything_runs(
        settings, write_migration, query, migrations_dir: Path) -> None:
    for n in (1, 2, 3):
        write_migration(f"V{n}__t{n}.sql", f"CREATE TABLE t{n} (id int);", f"DROP TABLE t{n};")
    api.up(settings)
    (migrations_dir / "V2__t2.sql").unlink()
    with pytest.raises(DriftError, match=r"cannot roll back V2__t2\.sql: its file is missing"):
        api.down(settings, to="1")
    assert tables(query) == {"t1", "t2", "t3"}


def test_a_part_way_no_transaction_file_made_transactional_is_drift(
        settings, migrations_dir: Path, query) -> None:
    path = migrations_dir / "V1__nt.sql"
    path.write_text(INTERRUPTED)
    with pytest.raises(MigrationFailedError):
        api.up(settings)
    path.write_text(INTERRUPTED.replace("-- pgshift:no-transaction\n", "").replace(
        "CREATE INDEX CONCURRENTLY", "CREATE INDEX"))
    with pytest.raises(DriftError, match="it is transactional now"):
        api.up(settings)
    assert query("SELECT status, statements_done FROM pgshift.history") == [("running", 1)]


def test_a_statement_timeout_of_0_in_a_file_is_none_whatever_the_run_sets(
        settings, write_migration, query) -> None:
    write_migration("V1__slow.sql", "SELECT pg_sleep(1.2);", "SELECT 1;",
                    header="-- pgshift:statement-timeout 0")
    api.up(dataclasses.replace(settings, statement_timeout=1.0))
    assert query("SELECT status FROM pgshift.history") == [("applied",)]


def test_a_migration_that_fills_the_servers_lock_table_is_told_how_to_fit(
    settings, write_migration, query
) -> None:
    """Thousands of DDL statements in one transaction lock more objects than the server's lock
    table holds (advisory locks fill it the same way, and faster)."""
    write_migration("V1__many_locks.sql",
                    "SELECT count(pg_advisory_xact_lock(g)) FROM generate_series(1, 200000) g;",
                    "SELECT 1;")
    with pytest.raises(MigrationFailedError) as failed:
        api.up(settings)
    assert "out of shared memory [53200]" in str(failed.value)
    assert failed.value.hint.startswith("split the migration (each file is one transaction)")
    assert query("SELECT count(*) FROM pgshift.history WHERE status = 'applied'") == [(0,)]
