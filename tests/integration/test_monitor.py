"""ps, kill and the blocker watch on a real PostgreSQL, with real concurrent sessions."""

from __future__ import annotations

import threading
import time

import psycopg2
import pytest
from tests.fixtures.sessions import up_in_thread, wait_for

from pgshift import api
from pgshift.errors import InputError, LockBusyError, MigrationFailedError
from pgshift.monitor.blockers import BlockerWatch

SLOW_LOCK = "-- pgshift:lock-timeout 20s"


@pytest.fixture
def table_t(settings, write_migration) -> None:
    write_migration("V001__t.sql", "CREATE TABLE t (id int PRIMARY KEY);\n"
                    "INSERT INTO t SELECT generate_series(1, 10);", "DROP TABLE t;")
    api.up(settings)


@pytest.fixture
def idle_app(table_t, app_session):
    """The checkout service, idle in a transaction that wrote to t: ALTER TABLE t must wait."""
    app = app_session("checkout-service")
    with app.cursor() as cur:
        cur.execute("UPDATE t SET id = id WHERE id = 1")
    return app


def waiting_migration(settings):
    snapshot = api.ps(settings)
    return next((s for s in snapshot.migrations() if s.waiting), None) and snapshot


def test_ps_on_a_quiet_database_without_pgshift_shows_nothing_and_installs_nothing(
    settings, query
) -> None:
    snapshot = api.ps(settings)
    assert snapshot.sessions == () and snapshot.migration_lock is None
    assert not snapshot.pgshift_installed
    assert query("SELECT count(*) FROM pg_namespace WHERE nspname = 'pgshift'") == [(0,)]


def test_ps_shows_the_migration_the_idle_in_transaction_app_blocking_it_and_whom_it_blocks(
    settings, idle_app, write_migration, app_session, in_background
) -> None:
    app = idle_app
    write_migration("V002__add_col.sql", "ALTER TABLE t ADD COLUMN note text;",
                    "ALTER TABLE t DROP COLUMN note;", header=SLOW_LOCK)
    thread, outcome = up_in_thread(settings)
    wait_for(lambda: waiting_migration(settings), what="the migration to wait on its lock")
    reader = in_background(app_session("reports", autocommit=True), "SELECT count(*) FROM t")
    snapshot = wait_for(lambda: (s := api.ps(settings)) and any(
        x.role == "waiting" for x in s.sessions) and s, what="the reader to queue")

    migration = snapshot.migrations()[0]
    assert migration.migration == "V002__add_col.sql" and migration.direction == "up"
    assert migration.command == "ALTER TABLE"
    assert migration.waiting_for.describe() == "AccessExclusiveLock on t"
    assert migration.wait_s is not None and migration.wait_s > 0
    blocker = snapshot.session(app.get_backend_pid())
    assert blocker.role == "blocker" and blocker.idle_in_transaction
    assert "RowExclusiveLock on t" in [lock.describe() for lock in blocker.holds]
    assert snapshot.blocking_roots() == [blocker]
    assert [s.pid for s in snapshot.blocked_by_pid()[blocker.pid]] == [migration.pid]
    waiting = [s for s in snapshot.sessions if s.role == "waiting"]
    assert [s.application_name for s in waiting] == ["reports"]
    assert migration.pid in waiting[0].blocked_by
    assert snapshot.migration_lock is not None
    assert snapshot.migration_lock.application_name == "pgshift lock"

    app.rollback()
    thread.join(10)
    reader.join()
    assert "error" not in outcome and reader.error is None


def test_ps_names_the_statement_a_migration_waits_in_though_it_was_sent_as_one_string(
    settings, idle_app, write_migration
) -> None:
    from pgshift.cli.activity_view import role_text, statement_text

    write_migration("V002__two.sql", "CREATE TABLE u (id int);\nALTER TABLE t ADD COLUMN n int;",
                    "ALTER TABLE t DROP COLUMN n;\nDROP TABLE u;", header=SLOW_LOCK)
    thread, outcome = up_in_thread(settings)
    snapshot = wait_for(lambda: waiting_migration(settings),
                        what="the migration to wait on its lock")
    migration = snapshot.migrations()[0]
    assert (migration.migration, migration.statement) == ("V002__two.sql", 2)
    assert migration.command == "ALTER TABLE"
    assert role_text(migration) == "migration V002__two.sql (up, statement 2)"
    assert statement_text(migration) == "ALTER TABLE t ADD COLUMN n int"
    idle_app.rollback()
    thread.join(10)
    assert "error" not in outcome


def test_cancel_does_nothing_to_an_idle_in_transaction_session_so_kill_says_so(
    settings, table_t, app_session
) -> None:
    ddl = app_session("psql")
    with ddl.cursor() as cur:
        cur.execute("ALTER TABLE t ADD COLUMN x int")  # DDL left open: idle in transaction
    result = api.kill(settings, ddl.get_backend_pid())
    assert result.action == "cancel-ignored" and not result.effective
    assert "--terminate" in result.note
    with ddl.cursor() as cur:  # still alive, transaction intact
        cur.execute("SELECT count(*) FROM information_schema.columns WHERE column_name = 'x'")
        assert cur.fetchone() == (1,)
    result = api.kill(settings, ddl.get_backend_pid(), terminate=True)
    assert result.action == "terminated" and result.effective
    with pytest.raises(psycopg2.OperationalError), ddl.cursor() as cur:
        cur.execute("SELECT 1")


def test_the_runner_between_lock_retries_is_killable_and_a_cancel_says_it_stops_nothing(
    settings, app_session
) -> None:
    runner = app_session("pgshift", autocommit=True)  # as while it sleeps between retries
    result = api.kill(settings, runner.get_backend_pid())
    assert result.action == "cancel-ignored" and not result.effective
    assert "nothing to stop" in result.note and "--terminate" in result.note
    result = api.kill(settings, runner.get_backend_pid(), terminate=True)
    assert result.action == "terminated" and result.effective
    with pytest.raises(psycopg2.OperationalError):  # as the runner's next attempt finds
        runner.cursor().execute("SELECT 1")


def test_kill_refuses_a_session_that_is_neither_migration_nor_ddl_unless_forced(
    settings, app_session, in_background
) -> None:
    app = app_session("web", autocommit=True)
    sleeper = in_background(app, "SELECT pg_sleep(30)")
    wait_for(lambda: _state(settings, app.get_backend_pid()) == "active", what="the sleeper")
    with pytest.raises(InputError, match="not a migration or DDL session"):
        api.kill(settings, app.get_backend_pid())
    result = api.kill(settings, app.get_backend_pid(), force=True)
    sleeper.join()
    assert result.action == "cancelled" and result.effective
    assert isinstance(sleeper.error, psycopg2.errors.QueryCanceled)


def _state(settings, pid: int) -> str | None:
    conn = psycopg2.connect(settings.url)
    try:
        with conn.cursor() as cur:
            cur.execute("SELECT state FROM pg_stat_activity WHERE pid = %s", (pid,))
            row = cur.fetchone()
            return row[0] if row else None
    finally:
        conn.close()


def test_kill_stuck_cancels_only_ddl_running_longer_than_the_limit(
    settings, app_session, in_background, query
) -> None:
    query("CREATE TABLE a (id int); CREATE TABLE b (id int)")
    old = app_session("old-job")
    old_job = in_background(old, "LOCK TABLE a; SELECT pg_sleep(30)")
    wait_for(lambda: _state(settings, old.get_backend_pid()) == "active", what="the old job")
    time.sleep(1.2)
    young = app_session("young-job")
    young_job = in_background(young, "LOCK TABLE b; SELECT pg_sleep(30)")
    wait_for(lambda: _state(settings, young.get_backend_pid()) == "active", what="the young job")
    results = api.kill_stuck(settings, older_than=1.0)
    assert [(r.pid, r.action, r.effective) for r in results] == [
        (old.get_backend_pid(), "cancelled", True)]
    assert results[0].session.command == "LOCK TABLE"
    old_job.join()
    assert isinstance(old_job.error, psycopg2.errors.QueryCanceled)
    assert not young_job.done.is_set()


def test_blocker_watch_reports_the_blocker_then_ends_only_idle_in_transaction_ones(
    settings, table_t, write_migration, app_session, in_background
) -> None:
    idle = app_session("forgotten-tx")
    with idle.cursor() as cur:
        cur.execute("SELECT * FROM t WHERE id = 1")  # AccessShareLock, then idle in transaction
    bystander = app_session("other-tx")
    with bystander.cursor() as cur:
        cur.execute("SELECT 1")  # idle in transaction too, but blocks nothing
    write_migration("V002__add_col.sql", "ALTER TABLE t ADD COLUMN note text;",
                    "ALTER TABLE t DROP COLUMN note;", header=SLOW_LOCK)
    seen = []
    with BlockerWatch(settings, seen.append, cancel_idle=True, min_idle=0.2) as watch:
        result = api.up(settings, on_event=watch.chain())
    assert [o.migration.name for o in result.outcomes] == ["V002__add_col.sql"]
    assert [(b.pid, b.ended, b.application_name) for b in watch.ended] == [
        (idle.get_backend_pid(), True, "forgotten-tx")]
    assert seen == watch.ended and seen[0].migration == "V002__add_col.sql"
    with bystander.cursor() as cur:
        cur.execute("SELECT 2")
        assert cur.fetchone() == (2,)


def test_blocker_watch_without_cancel_reports_a_blocker_after_the_notice_delay(
    settings, table_t, write_migration, app_session
) -> None:
    busy = app_session("batch-job")
    with busy.cursor() as cur:
        cur.execute("LOCK TABLE t IN SHARE MODE")
    threading.Timer(1.5, busy.rollback).start()
    write_migration("V002__add_col.sql", "ALTER TABLE t ADD COLUMN note text;",
                    "ALTER TABLE t DROP COLUMN note;", header=SLOW_LOCK)
    seen = []
    with BlockerWatch(settings, seen.append, notice_after=0.5) as watch:
        api.up(settings, on_event=watch.chain())
    assert [(b.pid, b.ended) for b in seen] == [(busy.get_backend_pid(), False)]
    assert "batch-job" in seen[0].describe() and "LOCK TABLE t" in seen[0].describe()
    assert seen[0].blocked_for_s >= 0.5


def test_blocker_watch_never_connects_during_a_run_of_fast_migrations(
    settings, table_t, write_migration, query
) -> None:
    for version in range(2, 12):  # 10 x 20 ms: the run outlasts the watch's sample period
        write_migration(f"V{version:03d}__quick.sql", "SELECT pg_sleep(0.02);", "SELECT 1;")
    write_migration("V012__look.sql", "CREATE TABLE watchers AS SELECT count(*) AS n FROM "
                    "pg_stat_activity WHERE application_name LIKE '% watch';",
                    "DROP TABLE watchers;")
    seen = []
    with BlockerWatch(settings, seen.append) as watch:
        api.up(settings, on_event=watch.chain())
    assert query("SELECT n FROM watchers") == [(0,)] and seen == []


def test_a_cancelled_migration_is_failed_in_status_and_the_next_up_applies_it(
    settings, write_migration, query
) -> None:
    write_migration("V001__flag.sql", "CREATE TABLE flag (go boolean);", "DROP TABLE flag;")
    write_migration("V002__work.sql", "CREATE TABLE work (id int);\n" + WAIT_FOR_FLAG,
                    "DROP TABLE work;")
    thread, outcome = up_in_thread(settings)
    migration = wait_for(lambda: next(iter(api.ps(settings).migrations()), None),
                         what="the migration to run")
    assert migration.migration == "V002__work.sql" and migration.state == "active"
    result = api.kill(settings, migration.pid)
    thread.join(10)
    assert result.action == "cancelled" and result.effective
    assert isinstance(outcome["error"], MigrationFailedError)
    assert states(settings) == {"V001__flag.sql": "applied", "V002__work.sql": "failed"}
    assert query("SELECT to_regclass('work')") == [(None,)]
    query("INSERT INTO flag VALUES (true)")
    api.up(settings)
    assert states(settings) == {"V001__flag.sql": "applied", "V002__work.sql": "applied"}


WAIT_FOR_FLAG = ("DO $$ BEGIN WHILE NOT EXISTS (SELECT FROM flag) LOOP PERFORM pg_sleep(0.05); "
                 "END LOOP; END $$;")


def states(settings) -> dict[str, str]:
    return {item.script: item.state for item in api.status(settings).items}


def test_rollback_plan_marks_the_irreversible_migration_in_the_way(
    settings, write_migration
) -> None:
    write_migration("V001__a.sql", "CREATE TABLE a (id int);", "DROP TABLE a;")
    write_migration("V002__b.sql", "CREATE TABLE b (id int);",
                    header="-- pgshift:irreversible")
    write_migration("V003__c.sql", "CREATE TABLE c (id int);", "DROP TABLE c;")
    api.up(settings)
    plan = api.rollback_plan(settings, "1")
    assert [(s.label, s.blocker) for s in plan.steps] == [
        ("V003", None), ("V002", "is marked irreversible")]
    with pytest.raises(InputError, match="V002 is marked irreversible"):
        plan.check()
    assert [s.label for s in api.rollback_plan(settings, "2").steps] == ["V003"]
    with pytest.raises(InputError, match="no migration with version 9"):
        api.rollback_plan(settings, "9")


def test_kill_with_grace_terminates_a_ddl_session_a_cancel_cannot_stop(
    settings, table_t, app_session
) -> None:
    ddl = app_session("psql")
    with ddl.cursor() as cur:
        cur.execute("LOCK TABLE t")
    result = api.kill(settings, ddl.get_backend_pid(), grace=0.2)
    assert result.action == "terminated" and result.effective
    assert "idle in transaction" in result.note
    assert all(s.pid != ddl.get_backend_pid() for s in api.ps(settings).sessions)


def test_ps_shows_a_running_backfill_with_rate_and_eta(settings, app_session) -> None:
    from pgshift.state import upgrades

    worker = app_session("pgshift", autocommit=True)
    upgrades.install(worker, settings.schema)
    with worker.cursor() as cur:
        cur.execute(
            "INSERT INTO pgshift.backfill (id, migration, table_name, statement, checksum, "
            "key_columns, keys_total, keys_done, rows_done, batches, rows_per_second, "
            "keys_per_second, status, pid) VALUES ('3:up:0', '3', 'users', 'UPDATE users ...', "
            "'x', '{id}', 100000, 25000, 24000, 25, 5000, 5000, 'running', pg_backend_pid())")
    (backfill,) = api.ps(settings).backfills
    assert (backfill.table_name, backfill.status, backfill.rows_done) == ("users", "running",
                                                                          24000)
    assert backfill.fraction == 0.25 and backfill.eta_seconds == 15.0
    from pgshift.cli.activity_view import backfill_text

    assert backfill_text(backfill) == ("3:up:0 on users: 24000 rows, keys 25000/100000 (25.0%), "
                                       "5,000 rows/s, ETA 15.0s [running]")


def test_blocker_watch_reports_a_long_index_builds_progress(
    settings, table_t, write_migration, app_session
) -> None:
    """A concurrent build waits for older writers; the watch says so while it waits."""
    old = app_session("report-tx")
    with old.cursor() as cur:
        cur.execute("UPDATE t SET id = id WHERE id = 1")  # a writer the build must wait out
    threading.Timer(1.5, old.rollback).start()
    write_migration("V002__index.sql", "-- pgshift:no-transaction\n"
                    "CREATE INDEX CONCURRENTLY t_id_idx ON t (id);", "DROP INDEX t_id_idx;")
    reported = []
    with BlockerWatch(settings, lambda _: None, on_progress=reported.append,
                      progress_every=0.3) as watch:
        api.up(settings, on_event=watch.chain())
    assert reported, "no progress reported during a 1.5 s build"
    first = reported[0]
    assert first.command == "CREATE INDEX CONCURRENTLY" and first.relation == "t"
    assert first.phase.startswith("waiting for") and first.unit == "lockers"


def test_a_rollback_confirmed_for_one_plan_does_not_carry_out_another(
    settings, write_migration
) -> None:
    """Another runner applied V003 while the rollback waited: it stops, having run nothing."""
    for i in (1, 2, 3):
        write_migration(f"V00{i}__t{i}.sql", f"CREATE TABLE t{i} (id int);", f"DROP TABLE t{i};")
    api.up(settings, to="2")
    plan = api.rollback_plan(settings, "1")
    confirmed = [step.item.script for step in plan.steps]
    assert confirmed == ["V002__t2.sql"]
    api.up(settings)  # meanwhile
    with pytest.raises(LockBusyError, match="V003, V002 would be rolled back, not the "
                       r"V002__t2\.sql confirmed; nothing was rolled back"):
        api.down(settings, to="1", confirmed=confirmed)
    assert len(api.status(settings).applied()) == 3
