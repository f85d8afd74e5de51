"""The runner dies: SIGKILL, SIGTERM and SIGINT at chosen points, then a randomised kill loop."""

from __future__ import annotations

import os
import random
import signal
import threading
import time
from pathlib import Path

import psycopg2
import pytest

from pgshift import api
from pgshift.config import Settings
from pgshift.errors import DriftError
from tests.faults import harness as h

pytestmark = pytest.mark.faults

SIGNALS = [signal.SIGKILL, signal.SIGTERM, signal.SIGINT]
# The sleep only the first, doomed run takes: the same file then applies quickly.
SLEEP = "SELECT pg_sleep(coalesce(current_setting('faults.sleep', true), '0')::float);"


def slow(env: dict[str, str], seconds: float = 60) -> dict[str, str]:
    return {**env, "PGOPTIONS": f"-c faults.sleep={seconds}"}


@pytest.fixture
def env(database_url: str, migrations_dir: Path) -> dict[str, str]:
    return h.env_for(database_url, migrations_dir)


def table_exists(url: str, name: str) -> bool:
    return h.query(url, "SELECT to_regclass(%s) IS NOT NULL", name)[0][0]


def kill(proc, sig: signal.Signals) -> tuple[int, str]:
    proc.send_signal(sig)
    code, _, err = h.finish(proc, timeout=15)
    assert code in h.SIGNAL_EXITS[sig], (sig, code, err)
    if sig != signal.SIGKILL:
        assert f"interrupted by {sig.name}" in err
    return code, err


@pytest.mark.parametrize("sig", SIGNALS, ids=lambda s: s.name)
def test_death_inside_a_transactional_migration_applies_nothing_and_up_converges(
    sig, env, write_migration, migrations_dir, database_url
) -> None:
    write_migration("V1__a.sql", "CREATE TABLE a (id int);", "DROP TABLE a;")
    write_migration("V2__b.sql", f"CREATE TABLE b (id int);\n{SLEEP}", "DROP TABLE b;")
    proc = h.start(slow(env), "up")
    h.wait_for_statement(database_url)
    started = time.monotonic()
    code, _ = kill(proc, sig)
    if sig != signal.SIGKILL:
        assert code == 128 + sig and time.monotonic() - started < 5
    states = h.check_invariant(database_url, migrations_dir,
                               lambda key: table_exists(database_url, "ab"[int(key) - 1]),
                               ["1", "2"])
    assert states == {"1": "applied", "2": "absent"}
    assert h.run(env, "validate").returncode == 0
    result = h.run(env, "up")
    assert result.returncode == 0, result.stderr
    assert h.check_invariant(database_url, migrations_dir,
                             lambda key: table_exists(database_url, "ab"[int(key) - 1]),
                             ["1", "2"]) == {"1": "applied", "2": "applied"}


@pytest.mark.parametrize("sig", SIGNALS, ids=lambda s: s.name)
def test_death_inside_a_chain_keeps_the_migrations_committed_before_it_and_up_converges(
    sig, env, write_migration, migrations_dir, database_url
) -> None:
    for v in range(1, 11):  # quick ones: V004 to V007 travel as one chain
        sleep = f"\n{SLEEP}" if v == 7 else ""
        write_migration(f"V{v:02d}__t{v}.sql", f"CREATE TABLE t{v} (id int);{sleep}",
                        f"DROP TABLE t{v};")
    keys = [str(v) for v in range(1, 11)]

    def effect(key: str) -> bool:
        return table_exists(database_url, f"t{key}")

    proc = h.start(slow(env), "up")
    sleeping = ("SELECT query FROM pg_stat_activity WHERE application_name = "
                "'pgshift up #2 V07__t7.sql' AND wait_event = 'PgSleep'")
    h.wait_until(lambda: h.query(database_url, sleeping), 20, "V07 to sleep")
    # Normally V07 travels with V04-V06 (chains form after quick round trips); on a machine
    # too loaded for that it runs alone, and the guarantee below is the same.
    [(sent,)] = h.query(database_url, sleeping)
    assert sent.startswith("BEGIN;")
    kill(proc, sig)
    states = h.check_invariant(database_url, migrations_dir, effect, keys)
    assert states == {**{k: "applied" for k in keys[:6]}, **{k: "absent" for k in keys[6:]}}
    result = h.run(env, "up")
    assert result.returncode == 0, result.stderr
    assert set(h.check_invariant(database_url, migrations_dir, effect, keys).values()) == {
        "applied"}


def test_death_between_two_migrations_keeps_the_first_and_up_applies_the_rest(
    env, write_migration, migrations_dir, database_url
) -> None:
    write_migration("V1__a.sql", "CREATE TABLE a (id int);", "DROP TABLE a;")
    # Parsing 20 000 statements keeps the runner in Python, between the two transactions.
    body = "CREATE TABLE b (id int);\n" + "INSERT INTO b VALUES (1);\n" * 20_000
    write_migration("V2__b.sql", body, "DROP TABLE b;")
    proc = h.start(env, "up")
    line = proc.stdout.readline()
    assert line.startswith("Applying V1 a ... done"), line
    proc.send_signal(signal.SIGKILL)
    proc.wait(10)
    rows = h.history_rows(database_url)
    assert rows == {"1": ("applied", 0)}
    assert not table_exists(database_url, "b")
    h.check_invariant(database_url, migrations_dir,
                      lambda key: table_exists(database_url, "ab"[int(key) - 1]), ["1", "2"])
    assert h.run(env, "up").returncode == 0
    assert h.query(database_url, "SELECT count(*) FROM b") == [(20_000,)]


def hold_open_transaction(url: str, statement: str) -> tuple[threading.Event, threading.Thread]:
    """An app session runs ``statement`` in a transaction and keeps it open until released."""
    ready, release = threading.Event(), threading.Event()

    def run() -> None:
        conn = psycopg2.connect(url, application_name="app")
        with conn.cursor() as cur:
            cur.execute(statement)
            ready.set()
            release.wait(60)
        conn.commit()
        conn.close()

    thread = threading.Thread(target=run, daemon=True)
    thread.start()
    assert ready.wait(10)
    return release, thread


@pytest.mark.parametrize("sig", SIGNALS, ids=lambda s: s.name)
def test_death_during_a_concurrent_index_build_leaves_it_interrupted_and_up_rebuilds_it(
    sig, env, write_migration, migrations_dir, database_url
) -> None:
    write_migration("V1__a.sql", "CREATE TABLE a (id int);", "DROP TABLE a;")
    write_migration("V2__ia.sql", "CREATE INDEX CONCURRENTLY ia ON a (id);",
                    "DROP INDEX CONCURRENTLY ia;",
                    header="-- pgshift:no-transaction\n-- pgshift:lock-timeout 30s")
    assert h.run(env, "up", "--to", "1").returncode == 0
    # The app's open transaction on a: the build has made its INVALID index and now waits.
    release, app = hold_open_transaction(database_url, "INSERT INTO a VALUES (1)")
    proc = h.start(env, "up")
    h.wait_for_statement(database_url, "CREATE INDEX CONCURRENTLY")
    h.wait_until(lambda: h.invalid_indexes(database_url) == ["ia"], what="an INVALID index")
    kill(proc, sig)
    if sig != signal.SIGKILL:  # the cancel ends the build while the app still holds its lock
        building = h.sql_true(database_url, h.SLEEPING + " AND state = 'active'",
                              "%CREATE INDEX CONCURRENTLY%")
        h.wait_until(lambda: not building(), timeout=5, what="the build cancelled")
    release.set()
    app.join(10)
    h.wait_backends_gone(database_url)
    # SIGTERM/SIGINT cancel the build. After SIGKILL the orphaned backend may notice only once
    # the build is done (a lock wait does not check the client): the index is then valid.
    built = h.invalid_indexes(database_url) == []
    assert built if sig == signal.SIGKILL and built else h.invalid_indexes(database_url) == ["ia"]
    assert h.history_rows(database_url)["2"] == ("running", 0)
    status = h.run(env, "status")
    assert "interrupted during up after 0 statement(s)" in status.stdout, status.stdout
    result = h.run(env, "up")
    assert result.returncode == 0, result.stderr
    if built:
        assert "index public.ia was built before the interruption" in result.stdout
    else:
        assert "dropping INVALID index public.ia" in result.stdout
    assert h.invalid_indexes(database_url) == []
    assert h.query(database_url, "SELECT count(*) FROM pg_indexes WHERE indexname = 'ia'") == [
        (1,)]
    assert h.history_rows(database_url)["2"][0] == "applied"


PAUSE_PROGRESS = """
CREATE FUNCTION public.pause_progress() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  IF NEW.statements_done = 1 THEN PERFORM pg_advisory_xact_lock(4242); END IF;
  RETURN NEW;
END $$;
CREATE TRIGGER pause BEFORE UPDATE ON pgshift.history
  FOR EACH ROW EXECUTE FUNCTION public.pause_progress();
"""


def pause_after_first_statement(url: str) -> psycopg2.extensions.connection:
    """Block the recording of the first statement's progress (the statement itself is done)."""
    h.query(url, PAUSE_PROGRESS)
    holder = psycopg2.connect(url, application_name="app")
    holder.autocommit = True
    with holder.cursor() as cur:
        cur.execute("SELECT pg_advisory_lock(4242)")
    return holder


@pytest.mark.parametrize("direction", ["up", "down"])
def test_death_after_a_concurrent_statement_but_before_its_progress_is_recorded(
    direction, env, write_migration, migrations_dir, database_url
) -> None:
    write_migration("V1__a.sql", "CREATE TABLE a (id int);", "DROP TABLE a;")
    write_migration("V2__ix.sql",
                    "CREATE INDEX CONCURRENTLY i1 ON a (id);\n"
                    "CREATE INDEX CONCURRENTLY i2 ON a (id);",
                    "DROP INDEX CONCURRENTLY i2;\nDROP INDEX CONCURRENTLY i1;",
                    header="-- pgshift:no-transaction\n-- pgshift:lock-timeout 30s")
    assert h.run(env, "up", "--to", "1" if direction == "up" else "2").returncode == 0
    holder = pause_after_first_statement(database_url)
    proc = h.start(env, direction)
    h.wait_until(h.sql_true(database_url, "SELECT count(*) > 0 FROM pg_stat_activity WHERE "
                            + h.RUNNER + " AND wait_event = 'advisory'"), what="the pause")
    proc.send_signal(signal.SIGKILL)
    proc.wait(10)
    # A lock wait does not notice the dead client: end its backend as the server eventually would.
    h.query(database_url, "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE "
            + h.RUNNER)
    h.wait_backends_gone(database_url)
    holder.close()
    marker = "running" if direction == "up" else "reverting"
    assert h.history_rows(database_url)["2"] == (marker, 0)
    done = h.query(database_url, "SELECT count(*) FROM pg_indexes WHERE indexname = %s",
                   "i1" if direction == "up" else "i2")
    assert done == [(1 if direction == "up" else 0,)]  # the statement ran; its record did not
    result = h.run(env, direction)
    assert result.returncode == 0, result.stderr
    expected = {"up": ["i1", "i2"], "down": []}[direction]
    assert [r[0] for r in h.query(database_url, "SELECT indexname FROM pg_indexes WHERE "
                                                "tablename = 'a' ORDER BY 1")] == expected
    rows = h.history_rows(database_url)
    assert (rows["2"][0] if "2" in rows else None) == ("applied" if direction == "up" else None)


# -- the randomised kill loop -------------------------------------------------------------------

LOOP_ITERATIONS = int(os.environ.get("PGSHIFT_FAULTS_KILLS", "24"))
TRANSACTIONAL = ["2", "3", "4", "5", "7"]


def write_loop_migrations(write_migration) -> None:
    write_migration("V1__counter.sql", "CREATE TABLE counter (n int NOT NULL);",
                    "DROP TABLE counter;")
    for n in TRANSACTIONAL:
        write_migration(f"V{n}__t{n}.sql",
                        f"CREATE TABLE t{n} (id int);\nINSERT INTO counter VALUES ({n});\n"
                        "SELECT pg_sleep(0.1);",
                        f"SELECT pg_sleep(0.05);\nDELETE FROM counter WHERE n = {n};\n"
                        f"DROP TABLE t{n};")
    write_migration("V6__indexes.sql",
                    "CREATE INDEX CONCURRENTLY ix6a ON t2 (id);\nSELECT pg_sleep(0.1);\n"
                    "CREATE INDEX CONCURRENTLY ix6b ON t3 (id);",
                    "DROP INDEX CONCURRENTLY ix6b;\nSELECT pg_sleep(0.1);\n"
                    "DROP INDEX CONCURRENTLY ix6a;",
                    header="-- pgshift:no-transaction")


def loop_effect(url: str, key: str) -> bool:
    if key == "1":
        return table_exists(url, "counter")
    if key == "6":
        return h.query(url, "SELECT count(*) = 2 FROM pg_index i JOIN pg_class c ON "
                            "c.oid = i.indexrelid WHERE c.relname IN ('ix6a', 'ix6b') "
                            "AND i.indisvalid")[0][0]
    present = table_exists(url, f"t{key}")
    if table_exists(url, "counter"):
        count = h.query(url, "SELECT count(*) FROM counter WHERE n = %s", int(key))[0][0]
        assert count == int(present), f"V{key} ran {count} times, table there: {present}"
    return present


def test_randomised_kill_loop_never_loses_or_doubles_a_migration(
    env, write_migration, migrations_dir, database_url
) -> None:
    write_loop_migrations(write_migration)
    keys = ["1", *TRANSACTIONAL, "6"]
    seed = int(os.environ.get("PGSHIFT_FAULTS_SEED", random.randrange(1 << 30)))
    rng = random.Random(seed)
    direction, seen = "up", set()
    for iteration in range(LOOP_ITERATIONS):
        sig = rng.choice(SIGNALS)
        proc = h.start(env, direction)
        time.sleep(rng.uniform(0.15, 1.2))
        proc.send_signal(sig)
        code, _, err = h.finish(proc)
        assert code in h.SIGNAL_EXITS[sig] | {0}, (seed, iteration, sig, code, err)
        states = h.check_invariant(database_url, migrations_dir,
                                   lambda key: loop_effect(database_url, key), keys)
        seen.add((direction, tuple(sorted(states.items())), sig.name, code == 0))
        _validate_is_truthful(database_url, migrations_dir, states)
        applied = sum(s == "applied" for s in states.values())
        if direction == "up" and applied == len(keys):
            direction = "down"
        elif direction == "down" and applied == 0 and "reverting" not in states.values():
            direction = "up"
    result = h.run(env, "up")
    if result.returncode != 0:  # a down interrupted in its no-transaction file: finish it first
        assert "finish it with 'pgshift down'" in result.stderr, result.stderr
        assert h.run(env, "down").returncode == 0
        result = h.run(env, "up")
    assert result.returncode == 0, (seed, result.stderr)
    final = h.check_invariant(database_url, migrations_dir,
                              lambda key: loop_effect(database_url, key), keys)
    assert set(final.values()) == {"applied"}
    assert h.invalid_indexes(database_url) == []
    print(f"kill loop: seed {seed}, {LOOP_ITERATIONS} kills, {len(seen)} distinct kill points")


def _validate_is_truthful(url: str, migrations_dir: Path, states: dict[str, str]) -> None:
    settings = Settings(url=url, dir=migrations_dir, lint=False)
    if "reverting" in states.values():
        with pytest.raises(DriftError, match="interrupted during down"):
            api.validate(settings)
    else:
        api.validate(settings)


# -- the randomised kill loop over a batched backfill -------------------------------------------

BACKFILL_KILLS = int(os.environ.get("PGSHIFT_FAULTS_BACKFILL_KILLS", "10"))
BACKFILL_ROWS = 30_000
# Statement 1 would fail if run twice; the backfill bumps a counter, so a redone batch shows as
# a 2 and a skipped one as a 0; statement 3 may be cut off mid-build (an INVALID index).
BACKFILL_FILE = """-- pgshift:no-transaction
ALTER TABLE t ADD COLUMN touched int NOT NULL DEFAULT 0;
-- pgshift:backfill batch-size=100 pause=20ms vacuum=off
UPDATE t SET touched = touched + 1;
CREATE INDEX CONCURRENTLY t_touched ON t (touched);
-- pgshift:down
DROP INDEX CONCURRENTLY IF EXISTS t_touched;
ALTER TABLE t DROP COLUMN IF EXISTS touched;
"""


def backfill_effect(url: str, key: str) -> bool:
    """V1: the table is there; V2: every row touched exactly once and the index valid."""
    if key == "1":
        return table_exists(url, "t")
    if not h.query(url, "SELECT count(*) > 0 FROM information_schema.columns "
                        "WHERE table_name = 't' AND column_name = 'touched'")[0][0]:
        return False
    untouched = h.query(url, "SELECT count(*) FROM t WHERE touched <> 1")[0][0]
    return untouched == 0 and h.query(url, "SELECT count(*) = 1 FROM pg_index i JOIN pg_class c "
                                           "ON c.oid = i.indexrelid WHERE c.relname = "
                                           "'t_touched' AND i.indisvalid")[0][0]


def backfill_checkpoint_matches_the_rows(url: str) -> int:
    """Rows the checkpoint says are done; each is touched once, none twice, none skipped."""
    if not h.query(url, "SELECT to_regclass('pgshift.backfill') IS NOT NULL")[0][0]:
        return 0
    done = h.query(url, "SELECT coalesce(sum(rows_done), 0)::int FROM pgshift.backfill")[0][0]
    if done:
        counts = dict(h.query(url, "SELECT touched, count(*)::int FROM t GROUP BY touched"))
        assert set(counts) <= {0, 1}, f"a row was updated twice: {counts}"
        assert counts.get(1, 0) == done, f"checkpoint says {done} rows, table has {counts}"
    return done


def test_randomised_kill_loop_over_a_batched_backfill_updates_every_row_exactly_once(
    env, write_migration, migrations_dir, database_url
) -> None:
    write_migration("V1__t.sql", "CREATE TABLE t (id int PRIMARY KEY);\n"
                    f"INSERT INTO t SELECT generate_series(1, {BACKFILL_ROWS});", "DROP TABLE t;")
    (migrations_dir / "V2__touch.sql").write_text(BACKFILL_FILE)
    assert h.run(env, "up", "--to", "1").returncode == 0
    seed = int(os.environ.get("PGSHIFT_FAULTS_SEED", random.randrange(1 << 30)))
    rng = random.Random(seed)
    mid_backfill = 0
    for iteration in range(BACKFILL_KILLS):
        sig = rng.choice(SIGNALS)
        proc = h.start(env, "up")
        time.sleep(rng.uniform(0.3, 1.0))
        proc.send_signal(sig)
        code, _, err = h.finish(proc)
        assert code in h.SIGNAL_EXITS[sig] | {0}, (seed, iteration, sig, code, err)
        states = h.check_invariant(database_url, migrations_dir,
                                   lambda key: backfill_effect(database_url, key), ["1", "2"])
        _validate_is_truthful(database_url, migrations_dir, states)
        done = backfill_checkpoint_matches_the_rows(database_url)
        mid_backfill += 0 < done < BACKFILL_ROWS
        if states["2"] == "applied":
            break
    result = h.run(env, "up")
    assert result.returncode == 0, (seed, result.stderr)
    final = h.check_invariant(database_url, migrations_dir,
                              lambda key: backfill_effect(database_url, key), ["1", "2"])
    assert final == {"1": "applied", "2": "applied"}, seed
    assert h.query(database_url, "SELECT touched, count(*) FROM t GROUP BY touched") == [
        (1, BACKFILL_ROWS)]
    assert h.query(database_url, "SELECT status, rows_done FROM pgshift.backfill") == [
        ("done", BACKFILL_ROWS)]
    assert h.invalid_indexes(database_url) == []
    assert mid_backfill >= 3, f"seed {seed}: only {mid_backfill} kill(s) landed mid-backfill"
    print(f"backfill kill loop: seed {seed}, {iteration + 1} kills, {mid_backfill} mid-backfill")
