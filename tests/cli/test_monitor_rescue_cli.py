"""rollback and ps as an on-call engineer types them: what they print when the request is odd."""

from __future__ import annotations

import subprocess
import sys
import uuid

from psycopg2.extensions import make_dsn
from tests.fixtures.sessions import wait_for

from pgshift import api


def test_rollback_to_a_version_above_the_database_says_where_it_is_and_does_nothing(
    cli, settings, write_migration
) -> None:
    write_migration("V001__a.sql", "CREATE TABLE a (id int);", "DROP TABLE a;")
    write_migration("V002__b.sql", "CREATE TABLE b (id int);", "DROP TABLE b;")
    api.up(settings, to="1")
    result = cli("rollback", "--to", "2", "--yes")
    assert result.returncode == 0, result.stderr
    assert result.stdout.splitlines() == [
        "Emergency rollback to version 2: the database is at version 001.",
        "Nothing to roll back: no applied migration above version 2.",
    ]
    assert [i.state for i in api.status(settings).items] == ["applied", "pending"]


def test_ps_for_a_role_that_may_not_read_pgshifts_schema_still_shows_the_sessions(
    cli, settings, write_migration, query
) -> None:
    write_migration("V001__a.sql", "CREATE TABLE a (id int);", "DROP TABLE a;")
    api.up(settings)
    role = f"watcher_{uuid.uuid4().hex[:8]}"
    query(f"CREATE ROLE {role} LOGIN")
    try:
        result = cli("ps", "--url", make_dsn(settings.url, user=role))
    finally:
        query(f"DROP ROLE {role}")
    assert result.returncode == 0, result.stderr
    assert "(this role may not read pgshift's tables: backfills are not shown)" in result.stdout
    assert "Nothing is migrating" in result.stdout


def test_rollback_while_a_run_holds_the_lock_does_not_say_there_is_nothing_to_roll_back(
    cli, settings, write_migration, query, pgshift_env
) -> None:
    query("CREATE TABLE flag (go boolean)")
    write_migration("V001__work.sql", "CREATE TABLE work (id int);\nDO $$ BEGIN WHILE NOT "
                    "EXISTS (SELECT FROM flag) LOOP PERFORM pg_sleep(0.05); END LOOP; END $$;",
                    "DROP TABLE work;")
    runner = subprocess.Popen([sys.executable, "-m", "pgshift", "up"], env=pgshift_env,
                              stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        holder = wait_for(lambda: api.ps(settings).migration_lock, what="the run to start")
        result = cli("rollback", "--to", "0", "--yes")
    finally:
        query("INSERT INTO flag VALUES (true)")
        runner.wait(10)
    assert result.returncode == 4, result.stderr
    assert "Nothing to roll back" not in result.stdout
    assert f"a run holds the migration lock (pid {holder.pid})" in result.stderr
    assert runner.returncode == 0


def test_ps_refuses_watch_options_without_watch_and_json_with_watch(cli) -> None:
    for args, message in [(("--count", "2"), "--count goes with --watch"),
                          (("--interval", "5"), "--interval goes with --watch"),
                          (("--json", "--watch", "--count", "1"), "does not go with --watch")]:
        result = cli("ps", *args)
        assert result.returncode == 2 and message in result.stderr, (args, result.stderr)
        assert result.stdout == ""


def test_rollback_to_a_version_that_is_not_applied_says_where_the_database_really_ends(
    cli, settings, write_migration
) -> None:
    write_migration("V001__a.sql", "CREATE TABLE a (id int);", "DROP TABLE a;")
    write_migration("V003__c.sql", "CREATE TABLE c (id int);", "DROP TABLE c;")
    api.up(settings)
    write_migration("V002__b.sql", "CREATE TABLE b (id int);", "DROP TABLE b;")  # merged late
    result = cli("rollback", "--to", "2", "--yes")
    assert result.returncode == 0, result.stderr
    assert ("Not applied at or below version 2: V002 (out-of-order); the database will be at "
            "version 001, not 2.") in result.stdout
    assert "Rolled back 1 migration(s); the database is at version 001." in result.stdout
    assert "matches version 001 (the schema is there now)" in result.stdout
    assert "version 2 (the schema" not in result.stdout
    assert [i.state for i in api.status(settings).items] == ["applied", "pending", "pending"]


def test_rollback_plan_says_a_no_transaction_down_that_stopped_part_way_goes_on(
    cli, settings, write_migration, query
) -> None:
    write_migration("V001__two.sql", "CREATE TABLE a (id int);\nCREATE TABLE b (id int);",
                    "DROP TABLE b;\nDROP TABLE missing_one;\nDROP TABLE a;",
                    header="-- pgshift:no-transaction")
    api.up(settings)
    assert cli("rollback", "--to", "0", "--yes").returncode == 5
    query("CREATE TABLE missing_one (id int)")
    result = cli("rollback", "--to", "0", input="n\n")
    assert result.returncode == 1, result.stderr
    assert ("V001  two  [no transaction; interrupted during down after 1 statement(s): it goes "
            "on from there]") in result.stdout
