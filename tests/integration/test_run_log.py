"""The run log (``pgshift log``): every run that changed the database, kept after rollbacks,
with who, where from, how it ended and which migrations it applied or rolled back."""

from __future__ import annotations

import dataclasses
import json
import os
import signal

import pytest
from tests.faults import harness as h

from pgshift import api
from pgshift.errors import InputError, MigrationFailedError
from pgshift.state.upgrades import SCHEMA_VERSION


@pytest.fixture
def two(write_migration) -> None:
    write_migration("V001__a.sql", "CREATE TABLE a (id int);", "DROP TABLE a;")
    write_migration("V002__b.sql", "CREATE TABLE b (id int);", "DROP TABLE b;")


def summary(settings) -> list[tuple[str, str, list[str]]]:
    """(command, status, migrations) of each run, oldest first."""
    return [(r.command, r.status, r.migrations) for r in reversed(api.log(settings))]


def test_each_run_that_changed_something_is_kept_with_what_it_did(settings, two, query
                                                                  ) -> None:
    api.up(settings)
    api.redo(settings)
    api.down(settings, everything=True)
    assert summary(settings) == [
        ("up", "done", ["V001__a.sql", "V002__b.sql"]),
        ("down", "done", ["V002__b.sql"]),  # a redo is a down, then an up
        ("up", "done", ["V002__b.sql"]),
        ("down", "done", ["V002__b.sql", "V001__a.sql"]),
    ]
    last = api.log(settings, limit=1)[0]
    assert last.run_by == query("SELECT current_user")[0][0]
    assert last.machine == os.uname().nodename
    assert last.finished_at is not None and last.finished_at >= last.started_at
    assert last.error is None


def test_the_runs_of_one_migration(settings, two, write_migration) -> None:
    """When was V002 rolled back, and by whom: the runs that ran it, newest first."""
    write_migration("R__view.sql", "CREATE OR REPLACE VIEW v AS SELECT 1 AS one;")
    api.up(settings)
    api.redo(settings)
    api.down(settings, everything=True)
    assert [(r.command, r.migrations) for r in api.log(settings, migration="002")] == [
        ("down", ["V002__b.sql", "V001__a.sql"]),
        ("up", ["V002__b.sql"]),
        ("down", ["V002__b.sql"]),
        ("up", ["V001__a.sql", "V002__b.sql", "R__view.sql"]),
    ]
    assert [r.command for r in api.log(settings, migration="V1.0")] == ["down", "up"]
    assert [r.command for r in api.log(settings, migration="R__view.sql")] == ["up"]
    assert api.log(settings, migration="9") == []


def test_runs_that_change_nothing_are_not_recorded(settings, two, query) -> None:
    assert api.log(settings) == []
    assert query("SELECT to_regnamespace('pgshift')") == [(None,)]  # log created nothing
    api.up(settings, dry_run=True)
    api.up(settings)
    api.up(settings)
    api.down(settings, dry_run=True)
    assert summary(settings) == [("up", "done", ["V001__a.sql", "V002__b.sql"])]


def test_a_failed_run_keeps_what_it_finished_and_its_error(settings, two, write_migration
                                                          ) -> None:
    write_migration("V003__role.sql", "CREATE ROLE x PASSWORD 'hunter2-secret';\nSELECT 1/0;",
                    "DROP ROLE x;")
    with pytest.raises(MigrationFailedError):
        api.up(settings)
    [run] = api.log(settings)
    assert (run.command, run.status, run.migrations) == (
        "up", "failed", ["V001__a.sql", "V002__b.sql"])
    assert run.error.startswith("V003__role.sql:2: ") and "division by zero" in run.error
    assert "hunter2-secret" not in run.error


def test_baseline_and_repair_are_recorded(settings, two, write_migration, query) -> None:
    api.baseline(settings, "1")
    api.up(settings)
    query("UPDATE pgshift.history SET checksum = 'x' WHERE key = '2'")
    api.repair(settings)
    assert summary(settings) == [
        ("baseline", "done", ["V001__a.sql"]),
        ("up", "done", ["V002__b.sql"]),
        ("repair", "done", ["V002__b.sql"]),
    ]
    api.repair(settings)  # nothing to repair: not a run
    assert len(api.log(settings)) == 3


@pytest.mark.faults
def test_a_killed_run_shows_as_interrupted(settings, write_migration, database_url,
                                           migrations_dir) -> None:
    write_migration("V001__quick.sql", "CREATE TABLE q (id int);", "DROP TABLE q;")
    write_migration("V002__slow.sql", "SELECT pg_sleep(30);", "SELECT 1;")
    proc = h.start(h.env_for(database_url, migrations_dir), "up")
    h.wait_until(h.sql_true(database_url, "SELECT to_regclass('pgshift.runs') IS NOT NULL AND "
                            "EXISTS (SELECT FROM pg_stat_activity WHERE query LIKE "
                            "'%pg_sleep(30)%' AND pid <> pg_backend_pid())"), 20, "the run")
    proc.send_signal(signal.SIGKILL)
    proc.wait()
    h.wait_until(lambda: api.log(settings)[0].status == "interrupted", 20,
                 "the killed run's session to end")
    assert api.log(settings)[0].finished_at is None
    assert api.log(settings)[0].migrations == ["V001__quick.sql"]  # what it did get done


def test_a_history_installed_by_an_older_pgshift_gets_the_run_log_on_down(
    settings, two, query
) -> None:
    api.up(settings)
    query("DROP TABLE pgshift.runs; UPDATE pgshift.meta SET value = '2' "
          "WHERE key = 'schema_version'")
    api.down(settings)
    assert summary(settings) == [("down", "done", ["V002__b.sql"])]
    assert query("SELECT value FROM pgshift.meta WHERE key = 'schema_version'") == [
        (str(SCHEMA_VERSION),)]


def test_cli_log_table_and_json(cli, two) -> None:
    assert cli("log").stdout == "No runs recorded.\n"
    assert cli("up").returncode == 0
    assert cli("down").returncode == 0
    lines = cli("log").stdout.splitlines()
    assert lines[0].split() == ["Run", "Started", "Took", "By", "Command", "Result", "What"]
    assert lines[1].split()[-5:] == ["down", "done", "V002", "rolled", "back"]
    assert lines[2].split()[-5:] == ["up", "done", "V001,", "V002", "applied"]
    assert len(cli("log", "--migration", "001").stdout.splitlines()) == 2  # the header, the up
    as_json = json.loads(cli("log", "--limit", "1", "--json").stdout)
    assert [(r["id"], r["command"], r["migrations"]) for r in as_json] == [
        (2, "down", ["V002__b.sql"])]


def test_the_log_is_in_the_configured_schema(settings, two, query) -> None:
    elsewhere = dataclasses.replace(settings, schema="deploys")
    api.up(elsewhere)
    assert query("SELECT count(*) FROM deploys.runs") == [(1,)]
    assert api.log(settings) == []



def test_log_refuses_a_limit_below_one_as_bad_input_not_as_a_table_altered_by_hand(
    cli, settings, two
) -> None:
    assert cli("up").returncode == 0
    for limit in ("-1", "0", str(2**63)):
        result = cli("log", "--limit", limit)
        assert result.returncode == 2, result.stderr
        assert "must be from 1 to" in result.stderr and "altered by hand" not in result.stderr
    with pytest.raises(InputError, match="cannot list -1 runs"):
        api.log(settings, limit=-1)
    assert len(api.log(settings, limit=2**70)) == 1


def test_log_of_a_migration_no_run_ran_says_so_not_that_no_run_is_recorded(cli, two) -> None:
    assert cli("up", "--to", "1").returncode == 0
    assert cli("log", "--migration", "2").stdout == "No recorded run ran 2.\n"
    assert cli("log").stdout != "No runs recorded.\n"


def test_log_for_a_role_without_grants_blames_the_grants_not_the_table(
    cli, settings, two, query
) -> None:
    import uuid

    from psycopg2.extensions import make_dsn

    assert cli("up").returncode == 0
    role = f"viewer_{uuid.uuid4().hex[:8]}"
    query(f"CREATE ROLE {role} LOGIN")
    try:
        result = cli("log", "--url", make_dsn(settings.url, user=role))
    finally:
        query(f"DROP ROLE {role}")
    assert result.returncode == 2, result.stderr
    assert "permission denied for schema pgshift" in result.stderr
    assert "altered by hand" not in result.stderr


def test_an_error_quoting_the_connections_password_is_stored_masked(
        settings, write_migration, query) -> None:
    """status and log show what the history and the run log keep, where no URL is at hand to
    mask it by: a migration whose error quotes the password must not store it."""
    password = "Tr0ub4dor&3xyz"  # the test server trusts every login; libpq still holds it
    scheme, rest = settings.url.split("://", 1)
    with_password = dataclasses.replace(
        settings, url=f"{scheme}://postgres:{password}@{rest.rpartition('@')[2]}")
    write_migration("V001__a.sql", f"SELECT '{password}'::int;", "SELECT 1;")
    with pytest.raises(MigrationFailedError):
        api.up(with_password)
    stored = query("SELECT error FROM pgshift.history") + query("SELECT error FROM pgshift.runs")
    assert stored and all(password not in error and "***" in error for (error,) in stored)
