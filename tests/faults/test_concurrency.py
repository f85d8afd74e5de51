"""Many runners at once, a hung runner, a wait deadline and an orphaned lock."""

from __future__ import annotations

import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from pgshift.config import Settings
from tests.faults import harness as h

pytestmark = pytest.mark.faults


@pytest.fixture
def env(database_url: str, migrations_dir: Path) -> dict[str, str]:
    return h.env_for(database_url, migrations_dir)


def write_counted(write_migration, count: int = 5) -> None:
    write_migration("V1__counter.sql", "CREATE TABLE counter (n int);", "DROP TABLE counter;")
    for n in range(2, count + 1):
        write_migration(f"V{n}__t{n}.sql",
                        f"CREATE TABLE t{n} (id int);\nINSERT INTO counter VALUES ({n});",
                        f"DROP TABLE t{n};\nDELETE FROM counter WHERE n = {n};")


@pytest.mark.parametrize("runners", [5, 10, 20])
def test_simultaneous_runners_apply_each_migration_exactly_once(
    runners, env, write_migration, database_url
) -> None:
    write_counted(write_migration)
    procs = [h.start(env, "up") for _ in range(runners)]
    results = [h.finish(p, timeout=120) for p in procs]
    assert [code for code, _, _ in results] == [0] * runners, [err for _, _, err in results]
    applied = sum(out.count("done in") for _, out, _ in results)
    assert applied == 5, "each migration is reported applied by exactly one runner"
    assert h.query(database_url, "SELECT n, count(*) FROM counter GROUP BY n ORDER BY n") == [
        (n, 1) for n in range(2, 6)]
    assert h.query(database_url, "SELECT count(*) FROM pgshift.history "
                                 "WHERE status = 'applied'") == [(5,)]
    h.wait_backends_gone(database_url)
    assert h.lock_holders(database_url) == 0


def test_a_runner_waiting_past_its_deadline_exits_4_naming_the_holder(
    env, write_migration, database_url
) -> None:
    write_migration("V1__slow.sql", "CREATE TABLE a (id int);\nSELECT pg_sleep("
                    "coalesce(current_setting('faults.sleep', true), '0')::float);",
                    "DROP TABLE a;")
    first = h.start({**env, "PGOPTIONS": "-c faults.sleep=60"}, "up")
    h.wait_for_statement(database_url)
    first.send_signal(signal.SIGSTOP)  # hung: alive, holding the lock, doing nothing
    try:
        holder = h.query(database_url, "SELECT pid FROM pg_locks WHERE locktype = 'advisory'")
        started = time.monotonic()
        second = h.run(env, "up", "--lock-wait", "1s")
        waited = time.monotonic() - started
        assert second.returncode == 4, second.stderr
        assert 1 <= waited < 6
        assert f"holds the migration lock: pid {holder[0][0]} (pgshift lock" in second.stderr
        assert "Waiting for the migration lock held by" in second.stderr
        assert h.history_rows(database_url) == {}
    finally:
        first.send_signal(signal.SIGCONT)
    first.send_signal(signal.SIGTERM)
    assert h.finish(first)[0] == 143
    assert h.run(env, "up").returncode == 0


def test_a_runner_waits_for_a_live_holder_and_then_applies(env, write_migration,
                                                           database_url) -> None:
    write_counted(write_migration, 2)
    holder = h.query  # a plain session holds the lock for 1.5 s, then lets go
    code = ("import psycopg2, sys, time; c = psycopg2.connect(sys.argv[1]); c.autocommit = True;"
            "c.cursor().execute('SELECT pg_advisory_lock(%s)', (int(sys.argv[2]),));"
            "print('locked', flush=True); time.sleep(1.5)")
    proc = subprocess.Popen([sys.executable, "-c", code, database_url, str(Settings.lock_key)],
                            stdout=subprocess.PIPE, text=True)
    assert proc.stdout.readline().strip() == "locked"
    result = h.run(env, "up", "--lock-wait", "20s")
    proc.wait(10)
    assert result.returncode == 0, result.stderr
    assert holder(database_url, "SELECT count(*) FROM counter") == [(1,)]


def test_the_lock_of_a_killed_client_is_released_by_the_server(env, write_migration,
                                                               database_url) -> None:
    write_counted(write_migration, 2)
    code = ("import psycopg2, sys, time; c = psycopg2.connect(sys.argv[1]); c.autocommit = True;"
            "c.cursor().execute('SELECT pg_advisory_lock(%s)', (int(sys.argv[2]),));"
            "print('locked', flush=True); time.sleep(600)")
    proc = subprocess.Popen([sys.executable, "-c", code, database_url, str(Settings.lock_key)],
                            stdout=subprocess.PIPE, text=True)
    assert proc.stdout.readline().strip() == "locked"
    assert h.lock_holders(database_url) == 1
    proc.kill()
    proc.wait(10)
    started = time.monotonic()
    result = h.run(env, "up", "--lock-wait", "10s")
    assert result.returncode == 0, result.stderr
    assert time.monotonic() - started < 5
    assert h.lock_holders(database_url) == 0
