"""The server misbehaves: restarts, a terminated backend, a statement timeout, a held lock."""

from __future__ import annotations

import dataclasses
import signal
import statistics
import threading
import time

import psycopg2
import pytest

from pgshift import api
from pgshift.config import Settings
from tests.faults import harness as h

pytestmark = pytest.mark.faults

ADD_B = ("ALTER TABLE a ADD COLUMN b int;", "ALTER TABLE a DROP COLUMN b;")
SLEEP = "SELECT pg_sleep(coalesce(current_setting('faults.sleep', true), '0')::float);"


def two_tables(write_migration) -> None:
    write_migration("V1__a.sql", "CREATE TABLE a (id int);", "DROP TABLE a;")
    write_migration("V2__b.sql", f"CREATE TABLE b (id int);\n{SLEEP}", "DROP TABLE b;")


def effect(url: str) -> object:
    return lambda key: h.query(url, "SELECT to_regclass(%s) IS NOT NULL", "ab"[int(key) - 1])[0][0]


@pytest.mark.parametrize("mode", ["fast", "immediate"])
def test_a_server_restart_mid_migration_fails_it_cleanly_and_up_converges(
    mode, pg_server_factory, write_migration, migrations_dir
) -> None:
    # Committed must mean durable here: the throwaway default (synchronous_commit off) lets an
    # immediate stop lose the last commits, which no client can prevent.
    server = pg_server_factory(settings={"synchronous_commit": "on"})
    h.query(server.url, "CREATE DATABASE app")
    url = server.url_for("app")
    env = h.env_for(url, migrations_dir)
    two_tables(write_migration)
    proc = h.start({**env, "PGOPTIONS": "-c faults.sleep=60"}, "up")
    h.wait_for_statement(url)
    server.restart(mode)
    code, _, err = h.finish(proc)
    assert code == 5, err
    assert "V2__b.sql" in err and ("terminat" in err or "connection" in err), err
    states = h.check_invariant(url, migrations_dir, effect(url), ["1", "2"])
    assert states == {"1": "applied", "2": "absent"}
    assert h.run(env, "validate").returncode == 0
    result = h.run(env, "up")
    assert result.returncode == 0, result.stderr
    assert h.check_invariant(url, migrations_dir, effect(url), ["1", "2"]) == {
        "1": "applied", "2": "applied"}


def signal_the_sleeping_runner(database_url: str, env: dict[str, str], function: str
                               ) -> tuple[int, str]:
    """``up`` with V2 asleep, then ``function`` (pg_cancel_backend or pg_terminate_backend)
    on its backend, as an operator would: the exit code and stderr."""
    proc = h.start({**env, "PGOPTIONS": "-c faults.sleep=60"}, "up")
    h.wait_for_statement(database_url)
    h.query(database_url, f"SELECT {function}(pid) FROM pg_stat_activity WHERE "
            + h.RUNNER + " AND query LIKE '%%pg_sleep%%'")
    code, _, err = h.finish(proc)
    return code, err


def test_an_operator_terminating_the_migration_backend_fails_it_cleanly(
    database_url, write_migration, migrations_dir
) -> None:
    env = h.env_for(database_url, migrations_dir)
    two_tables(write_migration)
    code, err = signal_the_sleeping_runner(database_url, env, "pg_terminate_backend")
    assert code == 5, err
    assert "terminating connection due to administrator command" in err
    assert h.check_invariant(database_url, migrations_dir, effect(database_url),
                             ["1", "2"]) == {"1": "applied", "2": "absent"}
    assert h.run(env, "up").returncode == 0


def test_an_operator_cancelling_the_migration_is_named_as_the_cause(
    database_url, write_migration, migrations_dir
) -> None:
    two_tables(write_migration)
    code, err = signal_the_sleeping_runner(
        database_url, h.env_for(database_url, migrations_dir), "pg_cancel_backend")
    assert code == 5, err
    assert "cancelled by an operator" in err and "statement-timeout" not in err


def test_a_lock_timeout_of_0_waits_for_the_lock_as_postgresql_reads_0(
    database_url, write_migration, migrations_dir
) -> None:
    write_migration("V1__a.sql", "CREATE TABLE a (id int);", "DROP TABLE a;")
    env = h.env_for(database_url, migrations_dir)
    assert h.run(env, "up").returncode == 0
    write_migration("V2__b.sql", ADD_B[0], ADD_B[1], header="-- pgshift:lock-timeout 0")
    holder = psycopg2.connect(database_url)
    holder.cursor().execute("LOCK TABLE a IN ACCESS SHARE MODE")
    threading.Timer(1.0, holder.rollback).start()  # the app's transaction ends in 1 s
    try:
        result = h.run({**env, "PGSHIFT_LOCK_RETRIES": "0"}, "up")
    finally:
        holder.close()
    assert result.returncode == 0, result.stderr


def test_a_statement_timeout_fails_the_migration_and_a_longer_one_applies_it(
    database_url, write_migration, migrations_dir
) -> None:
    env = {**h.env_for(database_url, migrations_dir), "PGOPTIONS": "-c faults.sleep=5"}
    two_tables(write_migration)
    result = h.run(env, "up", "--statement-timeout", "300ms")
    assert result.returncode == 5, result.stderr
    assert "V2__b.sql:2: statement cancelled" in result.stderr
    assert h.check_invariant(database_url, migrations_dir, effect(database_url),
                             ["1", "2"]) == {"1": "applied", "2": "failed"}
    assert "FAILED" in h.run(env, "status").stdout
    assert h.run(env, "validate").returncode == 0  # a failure applied nothing: no drift
    env["PGOPTIONS"] = "-c faults.sleep=0.5"
    assert h.run(env, "up", "--statement-timeout", "5s").returncode == 0
    assert h.history_rows(database_url)["2"][0] == "applied"


def test_sigterm_during_lock_retry_backoff_exits_143_and_applies_nothing(
    database_url, write_migration, migrations_dir
) -> None:
    env = h.env_for(database_url, migrations_dir)
    write_migration("V1__a.sql", "CREATE TABLE a (id int);", "DROP TABLE a;")
    assert h.run(env, "up").returncode == 0
    write_migration("V2__col.sql", *ADD_B)
    holder = psycopg2.connect(database_url, application_name="app")
    holder.cursor().execute("SELECT * FROM a")  # an open transaction: ACCESS SHARE on a
    proc = h.start(env, "up", "--lock-timeout", "100ms", "--lock-retries", "50")
    h.wait_until(lambda: "retry" in (proc.stdout.readline() or "retry"), what="a retry")
    proc.send_signal(signal.SIGTERM)
    code, _, err = h.finish(proc)
    holder.close()
    assert code == 143, err
    assert h.check_invariant(database_url, migrations_dir, lambda key: key == "1",
                             ["1", "2"]) == {"1": "applied", "2": "absent"}


# -- an application transaction holding a conflicting lock ---------------------------------------


def app_reader(url: str, stop: threading.Event, latencies: list[float]) -> None:
    """The application: short reads of the table, back to back, timing each."""
    conn = psycopg2.connect(url, application_name="app-reader")
    conn.autocommit = True
    with conn.cursor() as cur:
        while not stop.is_set():
            started = time.monotonic()
            cur.execute("SELECT count(*) FROM a")
            latencies.append(time.monotonic() - started)
            time.sleep(0.01)
    conn.close()


def test_a_blocked_migration_gives_up_within_lock_timeout_retries_and_app_latency_stays_low(
    database_url, write_migration, migrations_dir
) -> None:
    settings = Settings(url=database_url, dir=migrations_dir, lint=False, lock_timeout=0.2,
                        lock_retries=30)
    write_migration("V1__a.sql", "CREATE TABLE a (id int);", "DROP TABLE a;")
    api.up(settings)
    write_migration("V2__col.sql", *ADD_B)
    long_tx = psycopg2.connect(database_url, application_name="app-long")
    long_tx.cursor().execute("SELECT * FROM a")  # holds ACCESS SHARE until it ends
    events: list[tuple[str, float, dict]] = []
    runner = threading.Thread(target=api.up, args=(settings,), kwargs={
        "on_event": lambda kind, m, info: events.append((kind, time.monotonic(), info))})
    stop, latencies = threading.Event(), []
    reader = threading.Thread(target=app_reader, args=(database_url, stop, latencies))
    reader.start()
    runner.start()
    time.sleep(3)
    long_tx.close()
    runner.join(30)
    stop.set()
    reader.join(10)
    assert h.history_rows(database_url)["2"][0] == "applied"
    starts = [t for kind, t, _ in events if kind == "start"]
    retries = [(t, info["wait"]) for kind, t, info in events if kind == "retry"]
    assert len(retries) >= 3
    # each attempt gave up after about lock_timeout, then waited its (growing) backoff
    for (retry_at, _), started in zip(retries, starts, strict=False):
        assert retry_at - started < 0.2 + 0.25
    waits = [w for _, w in retries]
    assert max(waits[3:] or waits) > min(waits[:2])
    worst, median = max(latencies), statistics.median(latencies)
    print(f"app reads during the migration: {len(latencies)}, median {median * 1000:.1f} ms, "
          f"worst {worst * 1000:.1f} ms, {len(retries)} retries")
    assert worst < 0.2 + 0.25, "app queries queued behind the waiting ALTER past lock_timeout"
    assert median < 0.05


def test_with_lock_retries_exhausted_nothing_is_applied_and_exit_is_5(
    database_url, write_migration, migrations_dir
) -> None:
    env = h.env_for(database_url, migrations_dir)
    write_migration("V1__a.sql", "CREATE TABLE a (id int);", "DROP TABLE a;")
    assert h.run(env, "up").returncode == 0
    write_migration("V2__col.sql", *ADD_B)
    long_tx = psycopg2.connect(database_url, application_name="app-long")
    long_tx.cursor().execute("SELECT * FROM a")
    try:
        result = h.run(env, "up", "--lock-timeout", "50ms", "--lock-retries", "2")
    finally:
        long_tx.close()
    assert result.returncode == 5, result.stderr
    assert "could not get a lock within lock_timeout" in result.stderr
    assert h.query(database_url, "SELECT count(*) FROM information_schema.columns "
                                 "WHERE table_name = 'a'") == [(1,)]
    assert h.history_rows(database_url)["2"][0] == "failed"
    settings = dataclasses.replace(Settings(url=database_url, dir=migrations_dir, lint=False))
    assert [o.migration.name for o in api.up(settings).outcomes] == ["V2__col.sql"]



def test_connect_wait_waits_for_a_server_that_is_starting(
    pg_server_factory, write_migration, migrations_dir
) -> None:
    """As in a container started beside its database: up waits, says so once, then runs."""
    server = pg_server_factory()
    write_migration("V1__a.sql", "CREATE TABLE a (id int);", "DROP TABLE a;")
    server.stop()
    proc = h.start(h.env_for(server.url, migrations_dir), "--connect-wait", "60s", "up")
    time.sleep(1.5)
    assert proc.poll() is None  # waiting, not failed
    server.start()
    code, _, err = h.finish(proc)
    assert code == 0, err
    assert err.count("Waiting up to 60s for the database server") == 1, err
    assert h.query(server.url, "SELECT to_regclass('a') IS NOT NULL") == [(True,)]


def test_connect_wait_gives_up_after_its_budget_with_the_servers_reason(
    pg_server_factory, migrations_dir
) -> None:
    server = pg_server_factory()
    server.stop()
    started = time.monotonic()
    result = h.run(h.env_for(server.url, migrations_dir), "--connect-wait", "1s", "status")
    assert result.returncode == 2
    assert "(waited 1s)" in result.stderr and "Connection refused" in result.stderr
    assert 1 <= time.monotonic() - started < 15


def test_connect_wait_never_waits_for_a_database_that_does_not_exist(
    database_url, migrations_dir
) -> None:
    from tests.fixtures.pg import url_with_dbname

    started = time.monotonic()
    result = h.run(h.env_for(url_with_dbname(database_url, "no_such_db"), migrations_dir),
                   "--connect-wait", "60s", "status")
    assert result.returncode == 2 and 'database "no_such_db" does not exist' in result.stderr
    assert "Waiting" not in result.stderr and time.monotonic() - started < 15
    assert "--connect-wait" not in result.stderr  # no hint to wait for what will not come


def test_a_refused_connection_hints_at_connect_wait(pg_server_factory, migrations_dir) -> None:
    server = pg_server_factory()
    server.stop()
    result = h.run(h.env_for(server.url, migrations_dir), "status")
    assert result.returncode == 2
    assert "--connect-wait waits for a server that is starting" in result.stderr


@pytest.mark.parametrize(("setting", "args", "expected"), [
    ("default_transaction_read_only = on", ("baseline", "--version", "1"),
     "the database takes no writes from this session"),
    ("default_transaction_read_only = on", ("validate", "--schema-drift"),
     "the database takes no writes from this session"),
    ("statement_timeout = '1ms'", ("status",), "a statement of pgshift's own was cancelled"),
])
def test_a_database_set_up_against_pgshift_is_a_one_line_error_not_a_crash(
    cli, write_migration, query, setting, args, expected
) -> None:
    write_migration("V1__a.sql", "CREATE TABLE a (id int);", "DROP TABLE a;")
    assert cli("up").returncode == 0
    [(name,)] = query("SELECT current_database()")
    query(f'ALTER DATABASE "{name}" SET {setting}')  # a DBA's, or a standby's
    result = cli(*args)
    assert result.returncode == 2, result.stderr
    [line] = result.stderr.strip().splitlines()
    assert line.startswith(f"pgshift: error: {expected}") and "(hint: " in line
