"""ps, kill, up --cancel-blockers and rollback as a user runs them: output and exit codes."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time

import pytest
from tests.fixtures.sessions import wait_for

from pgshift import api

SLOW_LOCK = "-- pgshift:lock-timeout 20s"
WAIT_FOR_FLAG = ("DO $$ BEGIN WHILE NOT EXISTS (SELECT FROM flag) LOOP PERFORM pg_sleep(0.05); "
                 "END LOOP; END $$;")


@pytest.fixture
def start_pgshift(pgshift_env):
    """``start_pgshift("up")`` runs pgshift in the background; killed after the test."""
    started: list[subprocess.Popen] = []

    def start(*args: str) -> subprocess.Popen:
        process = subprocess.Popen([sys.executable, "-m", "pgshift", *args], env=pgshift_env,
                                   stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        started.append(process)
        return process

    yield start
    for process in started:
        if process.poll() is None:
            process.kill()
            process.wait()


@pytest.fixture
def table_t(settings, write_migration) -> None:
    write_migration("V001__t.sql", "CREATE TABLE t (id int PRIMARY KEY);\n"
                    "INSERT INTO t SELECT generate_series(1, 10);", "DROP TABLE t;")
    api.up(settings)


def add_column_migration(write_migration) -> None:
    write_migration("V002__add_col.sql", "ALTER TABLE t ADD COLUMN note text;",
                    "ALTER TABLE t DROP COLUMN note;", header=SLOW_LOCK)


def states(settings) -> dict[str, str]:
    return {item.script: item.state for item in api.status(settings).items}


def test_ps_prints_the_waiting_migration_its_lock_and_the_blocking_tree(
    cli, settings, table_t, write_migration, app_session, start_pgshift
) -> None:
    app = app_session("checkout")
    with app.cursor() as cur:
        cur.execute("UPDATE t SET id = id WHERE id = 1")
    add_column_migration(write_migration)
    runner = start_pgshift("up")
    wait_for(lambda: any(s.waiting for s in api.ps(settings).migrations()), what="the wait")
    result = cli("ps")
    app.rollback()
    runner.wait(10)
    assert result.returncode == 0, result.stderr
    out = result.stdout
    assert "Migration lock: held by pid" in out and "pgshift lock" in out
    row = next(line for line in out.splitlines() if "migration V002__add_col.sql (up)" in line)
    assert "waits AccessExclusiveLock on t" in row and "ALTER TABLE t ADD COLUMN note" in row
    blocking = out.split("Blocking:\n")[1].splitlines()
    assert blocking[0].startswith(f"  {app.get_backend_pid()} blocker [checkout ")
    assert "], idle in transaction for" in blocking[0]
    assert "└─ " in blocking[1] and "migration V002__add_col.sql" in blocking[1]
    assert "waiting" in blocking[1] and "for AccessExclusiveLock on t" in blocking[1]
    assert runner.returncode == 0


def test_ps_json_shows_the_progress_of_a_concurrent_index_build(
    cli, settings, write_migration, query, start_pgshift
) -> None:
    query("CREATE TABLE big (id int); INSERT INTO big SELECT generate_series(1, 1500);"
          "CREATE FUNCTION slow_id(int) RETURNS int IMMUTABLE LANGUAGE plpgsql AS "
          "$$ BEGIN PERFORM pg_sleep(0.001); RETURN $1; END $$")
    write_migration("V001__index.sql", "CREATE INDEX CONCURRENTLY big_slow ON big (slow_id(id));",
                    "DROP INDEX CONCURRENTLY big_slow;", header="-- pgshift:no-transaction")
    runner = start_pgshift("up")

    def building() -> dict | None:
        snapshot = json.loads(cli("ps", "--json").stdout)
        return next((s for s in snapshot["sessions"] if s["progress"]
                     and s["progress"]["phase"].startswith("building index")
                     and s["progress"]["total"]), None)

    session = wait_for(building, timeout=15, interval=0.1, what="the build to report progress")
    runner.wait(20)
    assert runner.returncode == 0, runner.stderr.read()
    assert session["role"] == "migration" and session["migration"] == "V001__index.sql"
    assert session["command"] == "CREATE INDEX CONCURRENTLY"
    progress = session["progress"]
    assert progress["command"] == "CREATE INDEX CONCURRENTLY" and progress["relation"] == "big"
    assert progress["unit"] == "blocks" and 0 <= progress["percent"] <= 100


def test_up_cancel_blockers_ends_only_the_idle_in_transaction_blocker_and_says_whom(
    cli, settings, table_t, write_migration, app_session
) -> None:
    forgotten = app_session("forgotten")
    with forgotten.cursor() as cur:
        cur.execute("SELECT * FROM t")
    unrelated = app_session("unrelated")
    with unrelated.cursor() as cur:
        cur.execute("SELECT 1")
    add_column_migration(write_migration)
    result = cli("up", "--cancel-blockers", "idle-in-transaction")
    assert result.returncode == 0, result.stderr
    assert (f"ended blocking session pid {forgotten.get_backend_pid()} (forgotten, "
            in result.stdout)
    assert "idle in transaction for" in result.stdout and "SELECT * FROM t" in result.stdout
    assert "Applied 1 migration(s)" in result.stdout
    assert forgotten.closed or _dead(forgotten)
    assert not _dead(unrelated)


def _dead(conn) -> bool:
    import psycopg2

    try:
        with conn.cursor() as cur:
            cur.execute("SELECT 1")
        return False
    except psycopg2.OperationalError:
        return True


def test_up_prints_who_blocks_it_while_it_waits_for_a_lock(
    settings, table_t, write_migration, app_session, start_pgshift
) -> None:
    batch = app_session("nightly-batch")
    with batch.cursor() as cur:
        cur.execute("SELECT count(*) FROM t")
    add_column_migration(write_migration)
    runner = start_pgshift("up")
    wait_for(lambda: any((s.wait_s or 0) > 2.5 for s in api.ps(settings).migrations()),
             what="up to wait for its lock past the notice delay (2s)")
    batch.rollback()
    assert runner.wait(10) == 0, runner.stderr.read()
    out = runner.stdout.read()
    assert f"blocked for 2s by pid {batch.get_backend_pid()} (nightly-batch" in out
    assert "'--cancel-blockers idle-in-transaction' would end it" in out
    assert "Applied 1 migration(s)" in out


@pytest.mark.parametrize("how", [(), ("--terminate",)], ids=["cancel", "terminate"])
def test_kill_of_a_running_migration_leaves_a_consistent_history_and_the_next_up_succeeds(
    cli, settings, write_migration, query, start_pgshift, how
) -> None:
    write_migration("V001__flag.sql", "CREATE TABLE flag (go boolean);", "DROP TABLE flag;")
    write_migration("V002__work.sql", "CREATE TABLE work (id int);\n" + WAIT_FOR_FLAG,
                    "DROP TABLE work;")
    runner = start_pgshift("up")
    pid = wait_for(lambda: next((s.pid for s in api.ps(settings).migrations()
                                 if s.migration == "V002__work.sql"), None), what="V002")
    killed = cli("kill", str(pid), *how)
    assert killed.returncode == 0, killed.stderr
    action = "Terminated" if how else "Cancelled"
    assert killed.stdout.startswith(
        f"{action} pid {pid} (migration V002__work.sql (up, statement 2): ")
    assert "'pgshift status' shows the migration's state" in killed.stdout
    assert runner.wait(10) == 5
    assert "V002__work.sql" in runner.stderr.read()
    expected = "failed" if not how else "pending"  # the dead session could not record it
    assert states(settings) == {"V001__flag.sql": "applied", "V002__work.sql": expected}
    assert query("SELECT to_regclass('work')") == [(None,)]
    query("INSERT INTO flag VALUES (true)")
    assert cli("up").returncode == 0
    assert states(settings) == {"V001__flag.sql": "applied", "V002__work.sql": "applied"}


def test_terminating_a_no_transaction_migration_shows_where_it_stopped_and_up_resumes(
    cli, settings, write_migration, query, start_pgshift
) -> None:
    write_migration("V001__flag.sql", "CREATE TABLE flag (go boolean);", "DROP TABLE flag;")
    write_migration("V002__steps.sql", "CREATE TABLE work (id int);\n" + WAIT_FOR_FLAG
                    + "\nCREATE TABLE after_work (id int);",
                    "DROP TABLE after_work; DROP TABLE work;", header="-- pgshift:no-transaction")
    runner = start_pgshift("up")
    pid = wait_for(lambda: next((s.pid for s in api.ps(settings).migrations()
                                 if s.command is None and s.state == "active"), None),
                   what="V002's second statement")
    assert cli("kill", str(pid), "--terminate").returncode == 0
    assert runner.wait(10) == 5
    (item,) = [i for i in api.status(settings).items if i.script == "V002__steps.sql"]
    assert item.state == "failed" and item.detail == "interrupted during up after 1 statement(s)"
    query("INSERT INTO flag VALUES (true)")
    resumed = cli("up")
    assert resumed.returncode == 0, resumed.stderr  # CREATE TABLE work is not run again
    assert states(settings) == {"V001__flag.sql": "applied", "V002__steps.sql": "applied"}


def test_kill_refuses_a_session_that_is_not_a_migration_or_ddl(cli, app_session) -> None:
    app = app_session("web")
    with app.cursor() as cur:
        cur.execute("SELECT 1")
    result = cli("kill", str(app.get_backend_pid()))
    assert result.returncode == 2
    assert f"pid {app.get_backend_pid()} is not a migration or DDL session" in result.stderr
    assert "--force" in result.stderr
    assert cli("kill").returncode == 2
    assert "no session with pid 1 " in cli("kill", "1").stderr


def test_kill_stuck_reports_when_nothing_is_over_the_limit(cli) -> None:
    result = cli("kill", "--stuck", "--older-than", "10m")
    assert result.returncode == 0
    assert result.stdout == "No migration or DDL session has run longer than 600s.\n"


def _alive(query, pid: int) -> bool:
    """Whether backend ``pid`` still exists, asked without running anything on it."""
    return query("SELECT count(*) FROM pg_stat_activity WHERE pid = %s", pid) == [(1,)]


def _open_ddl(app_session, name: str = "psql"):
    """A session that ran DDL and left its transaction open: idle in transaction, locks held."""
    ddl = app_session(name)
    with ddl.cursor() as cur:
        cur.execute("ALTER TABLE t ADD COLUMN note text")
    return ddl


def test_kill_grace_terminates_an_idle_in_transaction_ddl_session_the_cancel_cannot_stop(
    cli, query, app_session
) -> None:
    query("CREATE TABLE t (id int)")
    ddl = _open_ddl(app_session)
    pid = ddl.get_backend_pid()
    ignored = cli("kill", str(pid))
    assert ignored.returncode == 1, ignored.stderr
    assert ignored.stdout.startswith(f"Not cancelled: pid {pid} (DDL ALTER TABLE: ")
    assert "idle in transaction: a cancel has no statement to stop" in ignored.stdout
    assert "use --terminate" in ignored.stdout
    assert _alive(query, pid)
    started = time.monotonic()
    killed = cli("kill", str(pid), "--grace", "1s")
    assert time.monotonic() - started >= 1.0  # it gave the session its grace first
    assert killed.returncode == 0, killed.stderr
    assert killed.stdout.startswith(
        f"Terminated pid {pid} (DDL ALTER TABLE: ALTER TABLE t ADD COLUMN note text); "
        "idle in transaction: a cancel has no statement to stop")
    assert not _alive(query, pid)
    assert query("SELECT count(*) FROM information_schema.columns WHERE table_name = 't' "
                 "AND column_name = 'note'") == [(0,)]  # its transaction rolled back


def test_kill_stuck_acts_only_on_migration_and_ddl_sessions_older_than_the_limit(
    cli, settings, write_migration, query, app_session, start_pgshift
) -> None:
    query("CREATE TABLE t (id int); CREATE TABLE u (id int)")
    write_migration("V001__flag.sql", "CREATE TABLE flag (go boolean);", "DROP TABLE flag;")
    write_migration("V002__work.sql", "CREATE TABLE work (id int);\n" + WAIT_FOR_FLAG,
                    "DROP TABLE work;")
    runner = start_pgshift("up")
    ddl = _open_ddl(app_session)
    app = app_session("web")  # idle in a transaction too, but not DDL
    with app.cursor() as cur:
        cur.execute("SELECT * FROM u")
    done_ddl = app_session("admin", autocommit=True)  # ran DDL, finished: idle
    with done_ddl.cursor() as cur:
        cur.execute("CREATE INDEX u_id ON u (id)")
    migration = wait_for(lambda: next((s.pid for s in api.ps(settings).migrations()
                                       if s.migration == "V002__work.sql"), None), what="V002")
    young = cli("kill", "--stuck", "--older-than", "1m")
    assert young.returncode == 0, young.stderr
    assert young.stdout == "No migration or DDL session has run longer than 60s.\n"
    assert runner.poll() is None and _alive(query, ddl.get_backend_pid())

    def ages() -> bool:
        sessions = api.ps(settings).sessions
        return all((s.xact_age_s or 0) > 1.5 for s in sessions if s.pid in (migration,
                                                                              ddl.get_backend_pid()))

    wait_for(ages, what="both sessions to pass 1.5s")
    result = cli("kill", "--stuck", "--older-than", "1s", "--grace", "1s")
    assert result.returncode == 0, result.stderr
    lines = result.stdout.splitlines()
    assert len(lines) == 2, result.stdout
    assert lines[0].startswith(
        f"Cancelled pid {migration} (migration V002__work.sql (up, statement 2): ")
    assert lines[1].startswith(f"Terminated pid {ddl.get_backend_pid()} (DDL ALTER TABLE: ")
    assert runner.wait(10) == 5
    assert _dead(ddl)
    assert not _dead(app) and not _dead(done_ddl)
    assert states(settings) == {"V001__flag.sql": "applied", "V002__work.sql": "failed"}


@pytest.fixture
def with_irreversible(settings, write_migration) -> None:
    write_migration("V001__a.sql", "CREATE TABLE a (id int);", "DROP TABLE a;")
    write_migration("V002__b.sql", "CREATE TABLE b (id int);", header="-- pgshift:irreversible")
    write_migration("V003__c.sql", "CREATE TABLE c (id int);", "DROP TABLE c;")
    write_migration("V004__d.sql", "CREATE TABLE d (id int);", "DROP TABLE d;")
    api.up(settings)


def test_rollback_over_an_irreversible_migration_refuses_before_running_anything(
    cli, settings, with_irreversible
) -> None:
    result = cli("rollback", "--to", "1", "--yes")
    assert result.returncode == 2
    assert "V004  d  [one transaction]" in result.stdout
    assert "V002  b  [one transaction]  CANNOT ROLL BACK: is marked irreversible" in result.stdout
    assert "cannot roll back to 1: V002 is marked irreversible; nothing was rolled back" in (
        result.stderr)
    assert set(states(settings).values()) == {"applied"}


def test_rollback_shows_the_plan_asks_then_rolls_back_and_prints_next_steps(
    cli, settings, with_irreversible
) -> None:
    declined = cli("rollback", "--to", "2", input="n\n")
    assert declined.returncode == 1 and "Aborted: nothing was rolled back." in declined.stdout
    assert cli("rollback", "--to", "2", input="").returncode == 2
    closed = cli("rollback", "--to", "2", stdin=None, preexec_fn=lambda: os.close(0))
    assert closed.returncode == 2 and "no answer on standard input" in closed.stderr
    assert set(states(settings).values()) == {"applied"}
    result = cli("rollback", "--to", "V2", input="y\n")
    assert result.returncode == 0, result.stderr
    out = result.stdout
    assert out.index("V004  d") < out.index("V003  c") < out.index("Roll back 2 migration(s)")
    assert "      V004  d  [one transaction]\n            locks d: ACCESS EXCLUSIVE (blocks " \
           "reads and writes)\n" in out  # what the app would wait for, before the question
    assert "Reverting V004 d ... done" in out and "Reverting V003 c ... done" in out
    assert "Rolled back 2 migration(s); the database is at version 2." in out
    assert "1. Deploy the application version that matches version 2" in out
    assert states(settings) == {"V001__a.sql": "applied", "V002__b.sql": "applied",
                                "V003__c.sql": "pending", "V004__d.sql": "pending"}
    again = cli("rollback", "--to", "2")
    assert again.returncode == 0 and "Nothing to roll back" in again.stdout


def test_ps_watch_redraws_live_in_a_terminal_until_ctrl_c(
    pgshift_env, settings, query, app_session, in_background
) -> None:
    pexpect = pytest.importorskip("pexpect")
    query("CREATE TABLE t (id int)")
    ddl = app_session("psql")
    with ddl.cursor() as cur:
        cur.execute("ALTER TABLE t ADD COLUMN note text")  # left open: idle in transaction
    reader = in_background(app_session("reports", autocommit=True), "SELECT * FROM t")
    wait_for(lambda: any(s.role == "waiting" for s in api.ps(settings).sessions), what="reader")
    env = {**pgshift_env, "TERM": "xterm-256color", "COLUMNS": "220", "LINES": "40"}
    child = pexpect.spawn(sys.executable, ["-m", "pgshift", "ps", "--watch", "--interval", "0.3"],
                          env=env, dimensions=(40, 220), encoding="utf-8", timeout=10)
    try:
        child.expect(r"every 0\.3s, Ctrl-C to quit")
        child.expect("DDL ALTER TABLE")
        child.expect("Blocking:")
        child.expect(f"{ddl.get_backend_pid()} DDL ALTER TABLE \\[psql ")
        child.expect("waiting [0-9.]+s for AccessShareLock on t")
        ddl.commit()
        reader.join()
        child.expect("Nothing is migrating")  # a later refresh sees the change
        child.sendintr()
        child.expect(pexpect.EOF)
    finally:
        child.close(force=True)
    assert child.exitstatus == 0


def test_ps_on_a_database_without_pgshift_says_nothing_is_migrating(cli, query) -> None:
    text = cli("ps")
    assert text.returncode == 0
    assert "Migration lock: free\n(pgshift is not installed on this database)" in text.stdout
    assert "Nothing is migrating" in text.stdout
    snapshot = json.loads(cli("ps", "--json").stdout)
    assert snapshot["pgshift_installed"] is False and snapshot["sessions"] == []
    assert snapshot["migration_lock"] is None
    assert query("SELECT to_regnamespace('pgshift')") == [(None,)]


@pytest.mark.parametrize("option", [("--interval=-1",), ("--interval", "nan"),
                                    ("--interval", "inf"), ("--count", "-1")])
def test_ps_watch_refuses_an_interval_or_count_it_cannot_wait_by(cli, option) -> None:
    result = cli("ps", "--watch", *option)
    assert result.returncode == 2 and "internal error" not in result.stderr
    assert "--interval must be from 0.1 to 86400 s" in result.stderr or (
        "must be 1 or more" in result.stderr)
