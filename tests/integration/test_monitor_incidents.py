"""ps and kill in hostile corners of an incident: prepared transactions, other roles' sessions
it may not look into, parallel workers, apps with temporary tables, pids that change hands."""

from __future__ import annotations

import dataclasses
import time
import uuid
from datetime import timedelta

import psycopg2
import pytest
from tests.fixtures.sessions import PARALLEL_BUILD_TABLE, up_in_thread, wait_for

from pgshift import api
from pgshift.errors import InputError
from pgshift.monitor import kill as kill_module
from pgshift.monitor.blockers import Blocker, BlockerWatch

# Ignores every cancel for 8 s: a statement only a terminate stops.
DEAF = ("DO $$ BEGIN FOR i IN 1..80 LOOP BEGIN PERFORM pg_sleep(0.1); "
        "EXCEPTION WHEN query_canceled THEN NULL; END; END LOOP; END $$")


@pytest.fixture
def role(settings, query):
    """``role(*grants)``: settings for a new login role, not superuser, granted ``grants``."""
    from psycopg2.extensions import make_dsn

    made = []

    def make(*grants: str):
        name = f"oncall_{uuid.uuid4().hex[:8]}"
        query(f"CREATE ROLE {name} LOGIN")
        made.append(name)
        for grant in grants:
            query(f"GRANT {grant} TO {name}")
        return dataclasses.replace(settings, url=make_dsn(settings.url, user=name))

    yield make
    for name in made:
        query(f"DROP OWNED BY {name}; DROP ROLE {name}")


def _connect(settings, name: str):
    conn = psycopg2.connect(settings.url, application_name=name)
    conn.autocommit = True
    return conn


def test_ps_by_a_role_without_pg_read_all_stats_shows_another_roles_index_build(
    role, app_session, in_background, query
) -> None:
    query("CREATE TABLE big AS SELECT generate_series(1, 3000) AS id;"
          "CREATE FUNCTION slow_id(int) RETURNS int IMMUTABLE LANGUAGE plpgsql "
          "AS $$ BEGIN PERFORM pg_sleep(0.002); RETURN $1; END $$")
    build = app_session("psql", autocommit=True)
    in_background(build, "CREATE INDEX CONCURRENTLY big_slow ON big (slow_id(id))")
    pid = build.get_backend_pid()
    wait_for(lambda: query("SELECT count(*) FROM pg_stat_progress_create_index "
                           "WHERE pid = %s", (pid,))[0][0], what="the index build")
    session = api.ps(role()).session(pid)  # its progress row: the pid, the rest NULL
    query("SELECT pg_cancel_backend(%s)", (pid,))
    assert session is not None and session.hidden
    assert (session.progress.command, session.progress.phase) == ("index build", "hidden")


def test_ps_shows_the_prepared_transaction_a_migration_waits_for_and_kill_0_says_how_to_end_it(
    pg_server_factory, settings, write_migration
) -> None:
    server = pg_server_factory(settings={"max_prepared_transactions": 2})
    settings = dataclasses.replace(settings, url=server.url)
    app = psycopg2.connect(server.url)
    with app.cursor() as cur:
        cur.execute("CREATE TABLE t (id int)")
        app.commit()
        cur.execute("INSERT INTO t VALUES (1); PREPARE TRANSACTION 'checkout-42'")
    app.close()
    write_migration("V001__col.sql", "ALTER TABLE t ADD COLUMN n int;",
                    "ALTER TABLE t DROP COLUMN n;", header="-- pgshift:lock-timeout 20s")
    told: list[Blocker] = []
    with BlockerWatch(settings, told.append, notice_after=0.3, cancel_idle=True) as watch:
        thread, outcome = up_in_thread(settings, on_event=watch.chain())
        snapshot = wait_for(lambda: (s := api.ps(settings)) and any(
            m.waiting for m in s.migrations()) and s, what="the migration to wait on its lock")
        with pytest.raises(InputError) as refused:
            api.kill(settings, 0)
        wait_for(lambda: told, what="the watch to name the blocker")
        admin = _connect(settings, "admin")
        admin.cursor().execute("ROLLBACK PREPARED 'checkout-42'")
        admin.close()
        thread.join(20)
    assert "error" not in outcome
    assert [(b.pid, b.ended) for b in told] == [(0, False)]
    assert "prepared transaction 'checkout-42'" in told[0].describe()
    assert "ROLLBACK PREPARED" in told[0].describe()
    (migration,) = snapshot.migrations()
    prepared = snapshot.session(0)
    assert migration.blocked_by == (0,)
    assert [s.pid for s in snapshot.blocking_roots()] == [0]
    assert (prepared.role, prepared.query) == ("prepared", "PREPARE TRANSACTION 'checkout-42'")
    assert [lock.describe() for lock in prepared.holds] == ["RowExclusiveLock on t"]
    assert "prepared transaction 'checkout-42'" in refused.value.message
    assert "ROLLBACK PREPARED 'checkout-42'" in refused.value.hint


def test_ps_and_kill_stuck_leave_alone_app_transactions_that_only_made_temporary_tables(
    settings, app_session, in_background
) -> None:
    report = app_session("reporting")
    etl = app_session("etl")
    ctas = app_session("report-builder", autocommit=True)
    for conn in (report, etl):  # temporary tables from an earlier transaction
        with conn.cursor() as cur:
            cur.execute("CREATE TEMP TABLE keep (id int)")
        conn.commit()
    with report.cursor() as cur:
        cur.execute("CREATE TEMP TABLE scratch (id int) ON COMMIT DROP")
    with etl.cursor() as cur:
        cur.execute("TRUNCATE keep")  # ACCESS EXCLUSIVE, on its own temporary table
        cur.execute("INSERT INTO keep VALUES (1)")
    with ctas.cursor() as cur:
        cur.execute("CREATE TEMP TABLE keep (id int)")
    in_background(ctas, "CREATE TEMP TABLE slow AS SELECT 1 AS one FROM pg_sleep(3)")
    time.sleep(0.3)
    pids = {c.get_backend_pid() for c in (report, etl, ctas)}
    assert not pids & {s.pid for s in api.ps(settings).sessions}
    assert api.kill_stuck(settings, older_than=0) == []
    for conn in (report, etl):
        with conn.cursor() as cur:
            cur.execute("SELECT 1")


def test_kill_of_a_parallel_worker_names_the_leader_to_kill(
    settings, write_migration, query
) -> None:
    query(PARALLEL_BUILD_TABLE)
    write_migration("V001__index.sql", "CREATE INDEX big_slow ON big (slow_id(id));",
                    "DROP INDEX big_slow;")
    thread, outcome = up_in_thread(settings)
    worker, leader = wait_for(lambda: next(iter(query(
        "SELECT pid, leader_pid FROM pg_stat_activity WHERE backend_type = 'parallel worker'")),
        None), timeout=15, what="the build's parallel workers")
    with pytest.raises(InputError) as refused:
        api.kill(settings, worker)
    thread.join(30)
    assert "error" not in outcome
    assert f"it is a parallel worker of pid {leader}: kill that one" in refused.value.message


def test_kill_by_a_role_that_cannot_see_the_migration_does_not_claim_its_cancel_worked(
    role, in_background, query
) -> None:
    oncall = role("pg_signal_backend")
    migration = _connect(role(), "pgshift up V007__deaf.sql")  # another role's runner
    running = in_background(migration, DEAF)
    pid = migration.get_backend_pid()
    wait_for(lambda: query("SELECT state = 'active' FROM pg_stat_activity WHERE pid = %s",
                           (pid,))[0][0], what="the statement to run")
    unsure = api.kill(oncall, pid)
    ended = api.kill(oncall, pid, grace=0.5)
    running.join()
    migration.close()
    assert (unsure.action, unsure.effective) == ("cancelled", False)
    assert "hidden from this role" in unsure.note
    assert (ended.action, ended.effective) == ("terminated", True)


def test_kill_never_signals_the_session_that_took_over_a_listed_pid(
    settings, app_session, monkeypatch
) -> None:
    ddl = app_session("psql")
    with ddl.cursor() as cur:
        cur.execute("CREATE TABLE t (id int); LOCK TABLE t")
    listed = kill_module.snapshot

    def stale(conn, settings):  # listed before its session ended and its pid went to another
        snapshot = listed(conn, settings)
        sessions = tuple(dataclasses.replace(s, backend_start=s.backend_start - timedelta(
            hours=1)) for s in snapshot.sessions)
        return dataclasses.replace(snapshot, sessions=sessions)

    monkeypatch.setattr(kill_module, "snapshot", stale)
    result = api.kill(settings, ddl.get_backend_pid(), terminate=True)
    stuck = api.kill_stuck(settings, older_than=0, terminate=True)
    assert (result.action, result.effective) == ("cancel-ignored", True)
    assert "nothing was sent" in result.note
    assert [r.note for r in stuck] == [result.note]
    with ddl.cursor() as cur:
        cur.execute("SELECT 1")


def test_kill_stuck_gives_every_session_the_same_grace_not_one_after_the_other(
    settings, app_session, query
) -> None:
    query("CREATE TABLE a (id int); CREATE TABLE b (id int); CREATE TABLE c (id int)")
    sessions = []
    for table in "abc":
        conn = app_session(f"admin-{table}")
        with conn.cursor() as cur:
            cur.execute(f"LOCK TABLE {table}")  # then idle in transaction: no cancel helps
        sessions.append(conn)
    started = time.monotonic()
    results = api.kill_stuck(settings, older_than=0, grace=1.5)
    took = time.monotonic() - started
    assert sorted(r.pid for r in results) == sorted(c.get_backend_pid() for c in sessions)
    assert all((r.action, r.effective) == ("terminated", True) for r in results)
    assert took < 3.5  # one by one: 4.5 s and more


def test_blocker_watch_does_not_end_an_app_session_that_stopped_blocking_since_the_sample(
    settings, app_session, query
) -> None:
    app = app_session("checkout")
    with app.cursor() as cur:
        cur.execute("SELECT 1")  # idle in transaction, blocking no one (it committed, say)
    other = app_session("runner-stand-in", autocommit=True)
    time.sleep(0.3)
    sampled = Blocker(app.get_backend_pid(), "checkout", "local", "idle in transaction",
                      "SELECT 1", 0.3, 0.3, blocked_for_s=5.0, migration="V001__x.sql")
    watch = BlockerWatch(settings, lambda blocker: None, cancel_idle=True, min_idle=0.1)
    conn = _connect(settings, "pgshift watch")
    try:
        watch._end(conn, sampled, other.get_backend_pid())
    finally:
        conn.close()
    assert watch.ended == []
    with app.cursor() as cur:
        cur.execute("SELECT 1")
