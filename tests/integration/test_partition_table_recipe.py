"""Recipe partition-table: a loaded table becomes a partitioned one without a copy or a scan
under a lock, keeps what the app relies on, and rolls back with the rows written since."""

from __future__ import annotations

import dataclasses

import pytest
from tests.fixtures.project import seq_scans

from pgshift import api
from pgshift.errors import InputError, MigrationFailedError
from pgshift.recipes import RecipeParams, render_recipe

SETUP = """
CREATE TABLE accounts (id int PRIMARY KEY);
INSERT INTO accounts SELECT g FROM generate_series(1, 10) g;
CREATE TABLE audit_logs (
  id bigserial PRIMARY KEY,
  account_id int NOT NULL REFERENCES accounts (id),
  at timestamptz NOT NULL DEFAULT now(),
  what text NOT NULL CHECK (what <> ''));
CREATE INDEX audit_logs_at_idx ON audit_logs (at);
INSERT INTO audit_logs (account_id, at, what)
SELECT 1 + g % 10, timestamptz '2026-01-01' + g * interval '1 minute', 'w' || g
FROM generate_series(1, 20000) g;
ANALYZE audit_logs;
"""
PARAMS = RecipeParams(table="audit_logs", column="at", cutoff="'2027-01-01'",
                      until="'2027-02-01'")
TABLES = ("SELECT relname::text, relkind::text FROM pg_class WHERE relname LIKE 'audit_logs%' "
          "AND relkind IN ('r', 'p') ORDER BY 1")
CONSTRAINTS = ("SELECT conname::text, convalidated FROM pg_constraint "
               "WHERE conrelid = 'audit_logs'::regclass ORDER BY 1")
SEQUENCE = "SELECT pg_get_serial_sequence('audit_logs', 'id')"


@pytest.fixture
def app_role(query):
    """A role the app connects as, with privileges on the table (roles are cluster-wide: the
    name carries the test database's)."""
    role = f"app_{query('SELECT current_database()')[0][0]}"
    query(SETUP)
    query(f'CREATE ROLE "{role}"')
    query(f'GRANT SELECT, INSERT ON audit_logs TO "{role}"')
    query(f'GRANT USAGE ON SEQUENCE audit_logs_id_seq TO "{role}"')
    yield role
    query(f'DROP OWNED BY "{role}"')
    query(f'DROP ROLE "{role}"')


def test_the_table_becomes_partitioned_without_a_scan_and_keeps_rows_access_and_keys(
    settings, query, app_role
) -> None:
    gated = dataclasses.replace(settings, lint=True)  # the recipe's files pass the lint gate
    before = query(CONSTRAINTS)
    paths = api.create_recipe(gated, "partition-table", PARAMS)
    assert [p.name.split("__")[1] for p in paths] == [
        "create_audit_logs_partitioned.sql", "add_audit_logs_below_cutoff_not_valid.sql",
        "validate_audit_logs_below_cutoff.sql", "swap_audit_logs_for_partitioned.sql"]
    api.up(gated, to=paths[2].name.split("__")[0][1:])
    scans = seq_scans(query, "audit_logs")  # VALIDATE read the table: that is its job

    api.up(gated)

    assert seq_scans(query, "audit_logs_legacy") == scans  # the swap did not read it
    assert query(TABLES) == [("audit_logs", "p"), ("audit_logs_2027_01_01", "r"),
                             ("audit_logs_legacy", "r")]
    assert query("SELECT count(*) FROM audit_logs") == [(20000,)]
    query(f'SET ROLE "{app_role}"; INSERT INTO audit_logs (account_id, at, what) '
          "VALUES (1, '2027-01-05', 'after the swap')")
    assert query("SELECT id, tableoid::regclass::text FROM audit_logs WHERE at >= "
                 "'2027-01-01'") == [(20001, "audit_logs_2027_01_01")]
    with pytest.raises(Exception, match="foreign key"):
        query("INSERT INTO audit_logs (account_id, at, what) VALUES (99, '2027-01-06', 'x')")
    assert query(SEQUENCE) == [("public.audit_logs_id_seq",)]  # owned by the new table

    api.down(gated, everything=True)

    assert query(TABLES) == [("audit_logs", "r")]
    assert query("SELECT count(*), max(id) FROM audit_logs") == [(20001, 20001)]
    assert query(CONSTRAINTS) == before
    assert query(SEQUENCE) == [("public.audit_logs_id_seq",)]


def test_the_swap_rolls_back_exactly_and_runs_again_when_nothing_was_written_since(
    settings, query, app_role
) -> None:
    api.create_recipe(settings, "partition-table", PARAMS)
    api.up(settings)
    swapped = query(TABLES)
    api.down(settings)
    assert ("audit_logs_below_cutoff", True) in query(CONSTRAINTS)  # as before the swap
    api.up(settings)
    assert query(TABLES) == swapped


def test_rows_written_since_the_swap_come_back_and_the_swap_then_refuses_to_run_again(
    settings, query, app_role
) -> None:
    """They are past the cutoff, so the CHECK goes with them; without it ATTACH would read the
    whole table under its lock, so the swap refuses to run until the CHECK is made again."""
    api.create_recipe(settings, "partition-table", PARAMS)
    api.up(settings)
    query("INSERT INTO audit_logs (account_id, at, what) VALUES (1, '2027-01-05', 'late')")
    api.down(settings)
    assert query("SELECT count(*), tableoid::regclass::text FROM audit_logs "
                 "GROUP BY 2") == [(20001, "audit_logs")]
    assert "audit_logs_below_cutoff" not in [name for name, _ in query(CONSTRAINTS)]
    with pytest.raises(MigrationFailedError, match="audit_logs_below_cutoff is missing or not "
                                                   "validated"):
        api.up(settings)
    assert query(TABLES) == [("audit_logs", "r"), ("audit_logs_2027_01_01", "r"),
                             ("audit_logs_partitioned", "p")]
    api.down(settings)  # the VALIDATE step: it does not bring back a CHECK the rows break
    query("INSERT INTO audit_logs (account_id, at, what) VALUES (1, '2027-01-06', 'later')")


def test_a_table_it_cannot_swap_is_refused_when_the_recipe_is_written(
    settings, query, app_role, migrations_dir
) -> None:
    query("CREATE VIEW recent_logs AS SELECT * FROM audit_logs WHERE at > '2026-01-10'")
    query("CREATE TABLE notes (log_id bigint REFERENCES audit_logs (id))")
    query("ALTER TABLE audit_logs ADD CONSTRAINT recent CHECK (at > '2020-01-01') NOT VALID")
    with pytest.raises(InputError, match=r"cannot swap audit_logs: foreign keys that reference "
                                         r"it: notes\.notes_log_id_fkey; views or rules that "
                                         r"use it: recent_logs; constraints not validated yet "
                                         r"\(VALIDATE them first\): recent \(hint"):
        api.create_recipe(settings, "partition-table", PARAMS)
    assert list(migrations_dir.iterdir()) == []


def test_what_appears_after_the_recipe_was_written_is_refused_before_anything_changes(
    settings, query, app_role
) -> None:
    api.create_recipe(settings, "partition-table", PARAMS)
    query("CREATE VIEW recent_logs AS SELECT * FROM audit_logs WHERE at > '2026-01-10'")
    query("CREATE FUNCTION touch() RETURNS trigger LANGUAGE plpgsql AS "
          "'BEGIN RETURN NEW; END'")
    query("CREATE TRIGGER touch BEFORE INSERT ON audit_logs FOR EACH ROW EXECUTE FUNCTION "
          "touch()")
    with pytest.raises(MigrationFailedError, match="cannot swap audit_logs: views or rules that "
                                                   "use it: recent_logs; triggers: touch"):
        api.up(settings)
    assert query(TABLES) == [("audit_logs", "r")]
    assert [item.state for item in api.status(settings).items] == [
        "failed", "pending", "pending", "pending"]


def test_partition_table_needs_its_key_cutoff_and_until() -> None:
    with pytest.raises(InputError, match="needs --column, --cutoff, --until"):
        render_recipe("partition-table", RecipeParams(table="audit_logs"))


def test_each_of_its_migrations_passes_verify(settings, write_migration) -> None:
    write_migration("V001__setup.sql", SETUP, "DROP TABLE audit_logs, accounts;")
    api.up(settings)
    api.create_recipe(settings, "partition-table", PARAMS)
    report = api.verify(dataclasses.replace(settings, lint=True))
    assert report.ok, report.failures
    assert len(report.migrations) == 4


NEXT_MONTH = RecipeParams(table="audit_logs", partition="audit_logs_2027_02",
                          bounds="FROM ('2027-02-01') TO ('2027-03-01')", like="audit_logs_legacy")


def test_add_partition_runs_beside_the_apps_readers_and_copies_indexes_not_bounds_checks(
    settings, query, app_role, app_session
) -> None:
    """CREATE TABLE … PARTITION OF would wait for the reader's ACCESS SHARE lock (and queue the
    app behind it); the recipe's ATTACH takes SHARE UPDATE EXCLUSIVE, which does not wait."""
    api.create_recipe(settings, "partition-table", PARAMS)
    api.up(settings)
    gated = dataclasses.replace(settings, lint=True, lock_retries=0)
    api.create_recipe(gated, "add-partition", NEXT_MONTH)
    reader = app_session()
    reader.cursor().execute("SELECT count(*) FROM audit_logs")  # its transaction stays open

    api.up(gated)

    reader.rollback()
    query(f'SET ROLE "{app_role}"; INSERT INTO audit_logs (account_id, at, what) '
          "VALUES (1, '2027-02-05', 'next month')")
    assert query("SELECT tableoid::regclass::text FROM audit_logs WHERE at >= '2027-02-01'") == [
        ("audit_logs_2027_02",)]
    assert query("SELECT count(*) FROM pg_index WHERE indrelid = "
                 "'audit_logs_2027_02'::regclass") == [(2,)]  # the primary key and at's index
    assert query("SELECT conname::text FROM pg_constraint WHERE conrelid = "
                 "'audit_logs_2027_02'::regclass AND contype = 'c'") == [("audit_logs_what_check",)]
    with pytest.raises(MigrationFailedError, match="holds rows: not dropped"):
        api.down(settings)
    query("DELETE FROM audit_logs WHERE at >= '2027-02-01'")
    api.down(settings)
    assert ("audit_logs_2027_02", "r") not in query(TABLES)
