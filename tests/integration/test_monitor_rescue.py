"""ps and kill in the situations an on-call engineer meets: parallel builds, second runners,
names the server cuts, passwords in other sessions' queries, other databases, other roles."""

from __future__ import annotations

import dataclasses
import threading
import time
import uuid

import psycopg2
import pytest
from tests.fixtures.sessions import PARALLEL_BUILD_TABLE, up_in_thread, wait_for

from pgshift import api
from pgshift.cli.activity_view import lock_text, role_text, snapshot_json, statement_text
from pgshift.errors import InputError
from pgshift.monitor.blockers import BlockerWatch

SLOW_LOCK = "-- pgshift:lock-timeout 20s"
WAIT_FOR_FLAG = ("DO $$ BEGIN WHILE NOT EXISTS (SELECT FROM flag) LOOP PERFORM pg_sleep(0.05); "
                 "END LOOP; END $$;")


@pytest.fixture
def table_t(settings, write_migration) -> None:
    write_migration("V001__t.sql", "CREATE TABLE t (id int PRIMARY KEY);\n"
                    "INSERT INTO t SELECT generate_series(1, 10);", "DROP TABLE t;")
    api.up(settings)


@pytest.fixture
def running_migration(settings, write_migration, query):
    """A runner holding the migration lock while V002 waits for table ``flag`` to have a
    row; the row is inserted (and the runner joined) after the test."""
    write_migration("V001__flag.sql", "CREATE TABLE flag (go boolean);", "DROP TABLE flag;")
    write_migration("V002__work.sql", "CREATE TABLE work (id int);\n" + WAIT_FOR_FLAG,
                    "DROP TABLE work;")
    thread, outcome = up_in_thread(settings)
    snapshot = wait_for(lambda: (s := api.ps(settings)) and s.migrations()
                        and s.migration_lock and s, what="V002 to run")
    yield snapshot
    query("INSERT INTO flag VALUES (true)")
    thread.join(10)
    assert "error" not in outcome


def test_ps_shows_a_parallel_index_build_as_one_migration_session(
    settings, write_migration, query
) -> None:
    query(PARALLEL_BUILD_TABLE)
    write_migration("V001__index.sql", "CREATE INDEX CONCURRENTLY big_slow ON big (slow_id(id));",
                    "DROP INDEX CONCURRENTLY big_slow;", header="-- pgshift:no-transaction")
    thread, outcome = up_in_thread(settings)
    workers = wait_for(lambda: query("SELECT count(*) FROM pg_stat_activity "
                                     "WHERE backend_type = 'parallel worker'")[0][0],
                       timeout=15, what="the build's parallel workers")
    snapshot = api.ps(settings)
    thread.join(30)
    assert "error" not in outcome
    assert workers >= 1
    assert [(s.migration, s.backend_type) for s in snapshot.migrations()] == [
        ("V001__index.sql", "client backend")]
    assert all(s.backend_type != "parallel worker" for s in snapshot.sessions)


def snapshot_while_blocked(settings, app_session):
    """``ps`` while ``up`` waits for its lock behind the app's open read of t; then the app
    lets go and the run ends without error."""
    app = app_session("checkout")
    with app.cursor() as cur:
        cur.execute("SELECT * FROM t")
    thread, outcome = up_in_thread(settings)
    snapshot = wait_for(lambda: (s := api.ps(settings)) and any(
        m.waiting for m in s.migrations()) and s, what="the migration to wait on its lock")
    app.rollback()
    thread.join(10)
    assert "error" not in outcome
    return snapshot


def test_ps_names_a_migration_whose_file_name_the_server_cuts_and_mangles(
    settings, table_t, write_migration, app_session
) -> None:
    name = "V002__añadir_columna_ñandú_a_la_tabla_de_pedidos_históricos.sql"
    write_migration(name, "CREATE TABLE u (id int);\nALTER TABLE t ADD COLUMN n int;",
                    "ALTER TABLE t DROP COLUMN n;\nDROP TABLE u;", header=SLOW_LOCK)
    snapshot = snapshot_while_blocked(settings, app_session)
    (migration,) = snapshot.migrations()
    assert migration.application_name != f"pgshift up #2 {name}"  # as the server shows it
    assert (migration.migration, migration.statement) == (name, 2)
    assert role_text(migration) == f"migration {name} (up, statement 2)"
    assert statement_text(migration) == "ALTER TABLE t ADD COLUMN n int"


def test_ps_json_keeps_the_statement_number_the_table_shows(
    settings, table_t, write_migration, app_session
) -> None:
    write_migration("V002__two.sql", "CREATE TABLE u (id int);\nALTER TABLE t ADD COLUMN n int;",
                    "ALTER TABLE t DROP COLUMN n;\nDROP TABLE u;", header=SLOW_LOCK)
    snapshot = snapshot_while_blocked(settings, app_session)
    (session,) = [s for s in snapshot_json(snapshot)["sessions"] if s["role"] == "migration"]
    assert session["statement_number"] == 2
    assert session["statement"] == "ALTER TABLE t ADD COLUMN n int"


def test_blocker_watch_masks_the_password_in_the_blockers_last_query(
    settings, table_t, write_migration, app_session
) -> None:
    admin = app_session("admin-console")
    with admin.cursor() as cur:
        cur.execute("SELECT * FROM t")
        cur.execute("CREATE ROLE blocker_role_tmp PASSWORD 'hunter2-secret'")  # rolled back
    threading.Timer(1.5, admin.rollback).start()
    write_migration("V002__add_col.sql", "ALTER TABLE t ADD COLUMN note text;",
                    "ALTER TABLE t DROP COLUMN note;", header=SLOW_LOCK)
    seen = []
    with BlockerWatch(settings, seen.append, notice_after=0.3) as watch:
        api.up(settings, on_event=watch.chain())
    assert [b.pid for b in seen] == [admin.get_backend_pid()]
    assert "hunter2" not in seen[0].describe() and "hunter2" not in seen[0].query
    assert "PASSWORD '***'" in seen[0].describe()


def test_ps_masks_a_password_the_server_cut_short_in_a_sessions_query(
    settings, table_t, app_session, query
) -> None:
    size = int(query("SELECT current_setting('track_activity_query_size')")[0][0].rstrip("kB"))
    head = "LOCK TABLE t IN SHARE MODE; SELECT '"
    tail = "'; CREATE ROLE cut_role_tmp PASSWORD 'hunter2-secret-hunter2-secret-hunter2'"
    pad = "x" * (size * 1024 - 1 - len(head) - len(tail) + 20)  # cut 20 bytes into it
    admin = app_session("admin-console")
    with admin.cursor() as cur:
        cur.execute(head + pad + tail)
    snapshot = api.ps(settings)
    admin.rollback()
    (session,) = [s for s in snapshot.sessions if s.pid == admin.get_backend_pid()]
    assert session.query.endswith("PASSWORD '***'")
    assert "hunter2" not in str(snapshot_json(snapshot))


def test_ps_says_a_second_runner_waits_for_the_migration_lock(
    settings, running_migration, pgshift_env
) -> None:
    import subprocess
    import sys

    holder = running_migration.migration_lock
    second = subprocess.Popen([sys.executable, "-m", "pgshift", "up", "--lock-wait", "20s"],
                              env=pgshift_env, stdout=subprocess.DEVNULL,
                              stderr=subprocess.DEVNULL)
    try:
        waiter = wait_for(lambda: next((s for s in api.ps(settings).sessions
                                        if s.application_name == "pgshift lock"
                                        and s.pid != holder.pid), None),
                          what="the second runner's lock connection")
    finally:
        second.kill()
        second.wait()
    assert waiter.waiting_for is not None
    assert lock_text(waiter) == (
        f"waits ExclusiveLock on the migration lock (held by pid {holder.pid})")
    held = next(s for s in running_migration.sessions if s.pid == holder.pid)
    assert held.waiting_for is None and lock_text(held).startswith("holds ExclusiveLock")


def test_kill_refuses_the_lock_connection_and_names_the_migration_to_kill(
    settings, running_migration
) -> None:
    holder = running_migration.migration_lock
    (migration,) = running_migration.migrations()
    with pytest.raises(InputError, match="lock connection: ending it frees the migration lock"
                       ) as refused:
        api.kill(settings, holder.pid, terminate=True)
    assert f"pid {migration.pid}" in refused.value.hint
    assert api.ps(settings).migration_lock.pid == holder.pid  # untouched


def test_kill_of_a_session_on_another_database_says_which_database(
    settings, fresh, app_session
) -> None:
    elsewhere = psycopg2.connect(fresh.url, application_name="other-app")
    try:
        with elsewhere.cursor() as cur:
            cur.execute("SELECT current_database()")
            database = cur.fetchone()[0]
        with pytest.raises(InputError, match=f"it is on database {database}"):
            api.kill(settings, elsewhere.get_backend_pid(), force=True)
        with elsewhere.cursor() as cur:  # untouched
            cur.execute("SELECT 1")
    finally:
        elsewhere.close()


def test_kill_grace_leaves_alone_a_session_that_ends_its_transaction_in_time(
    settings, table_t, app_session
) -> None:
    ddl = app_session("psql")
    with ddl.cursor() as cur:
        cur.execute("LOCK TABLE t")
    commit = threading.Timer(1.5, ddl.commit)
    commit.start()
    result = api.kill(settings, ddl.get_backend_pid(), grace=5)
    assert (result.action, result.effective) == ("cancel-ignored", True)
    assert "ended its transaction" in result.note
    commit.join()  # the server may see the COMMIT before the client has its answer
    with ddl.cursor() as cur:  # not terminated
        cur.execute("SELECT 1")


def test_ps_names_a_lock_on_a_table_an_uncommitted_transaction_created(
    settings, app_session
) -> None:
    ddl = app_session("psql")
    with ddl.cursor() as cur:
        cur.execute("CREATE TABLE brand_new (id int); SELECT 'brand_new'::regclass::oid::int")
        oid = cur.fetchone()[0]
    session = api.ps(settings).session(ddl.get_backend_pid())
    assert lock_text(session).startswith(
        f"holds AccessExclusiveLock on new relation {oid} (not committed yet)")


@pytest.fixture
def restricted_settings(settings, query):
    """``settings`` for a login role that is neither superuser nor in pg_signal_backend, and
    has no grant on pgshift's schema."""
    from psycopg2.extensions import make_dsn

    role = f"oncall_{uuid.uuid4().hex[:8]}"
    query(f"CREATE ROLE {role} LOGIN")
    yield dataclasses.replace(settings, url=make_dsn(settings.url, user=role))
    query(f"DROP ROLE {role}")


def test_ps_works_for_a_role_that_may_not_read_pgshifts_schema(
    restricted_settings, table_t, app_session
) -> None:
    ddl = app_session("psql")
    with ddl.cursor() as cur:
        cur.execute("LOCK TABLE t")
    snapshot = api.ps(restricted_settings)
    assert snapshot.pgshift_installed and not snapshot.backfills_readable
    assert [(s.pid, s.role) for s in snapshot.sessions] == [(ddl.get_backend_pid(), "ddl")]
    assert lock_text(snapshot.sessions[0]) == "holds AccessExclusiveLock on t"


def test_kill_stuck_says_which_sessions_its_role_cannot_see_instead_of_none(
    restricted_settings, table_t, app_session
) -> None:
    ddl = app_session("psql")
    with ddl.cursor() as cur:
        cur.execute("LOCK TABLE t")
    results = api.kill_stuck(restricted_settings, older_than=0)
    assert [(r.pid, r.action, r.effective) for r in results] == [
        (ddl.get_backend_pid(), "cancel-ignored", False)]
    assert "hidden from this role" in results[0].note
    with ddl.cursor() as cur:
        cur.execute("SELECT 1")


def test_kill_stuck_leaves_autovacuum_alone_and_ps_calls_it_autovacuum(
    pg_server_factory
) -> None:
    from pgshift.config import Settings

    server = pg_server_factory(settings={"autovacuum_naptime": 1})
    settings = Settings(url=server.url, lint=False)
    conn = psycopg2.connect(server.url)
    conn.autocommit = True
    with conn.cursor() as cur:
        cur.execute("CREATE TABLE churn (id int, v text) WITH (autovacuum_vacuum_cost_delay = 100,"
                    " autovacuum_vacuum_cost_limit = 1, autovacuum_vacuum_threshold = 1,"
                    " autovacuum_vacuum_scale_factor = 0);"
                    "INSERT INTO churn SELECT g, 'x' FROM generate_series(1, 100000) g;"
                    "UPDATE churn SET v = 'y'")
    conn.close()
    vacuum = wait_for(lambda: next((s for s in api.ps(settings).sessions
                                    if s.backend_type == "autovacuum worker"), None),
                      timeout=30, interval=0.2, what="autovacuum to vacuum churn")
    assert vacuum.role == "maintenance" and role_text(vacuum).startswith("autovacuum")
    time.sleep(0.1)
    assert all(r.pid != vacuum.pid for r in api.kill_stuck(settings, older_than=0))
    assert api.ps(settings).session(vacuum.pid) is not None


def test_ps_prints_another_roles_migration_and_lock_it_may_not_look_into(
    restricted_settings, running_migration
) -> None:
    import io

    from pgshift.cli.activity_view import print_snapshot

    holder = running_migration.migration_lock
    (migration,) = running_migration.migrations()
    out = io.StringIO()
    snapshot = api.ps(restricted_settings)
    print_snapshot(snapshot, out)
    assert f"Migration lock: held by pid {holder.pid} (pgshift lock)\n" in out.getvalue()
    (seen,) = snapshot.migrations()
    assert seen.hidden and (seen.pid, seen.migration) == (migration.pid, "V002__work.sql")
    row = next(line for line in out.getvalue().splitlines() if line.startswith(str(seen.pid)))
    assert "@?" in row and "hidden" in row and row.endswith("<insufficient privilege>")
    assert "past the text" not in row


def test_a_runner_of_a_role_that_may_not_see_the_lock_holder_still_names_it(
    restricted_settings, running_migration
) -> None:
    import psycopg2

    from pgshift.state.lock import holder

    conn = psycopg2.connect(restricted_settings.url)
    try:
        seen = holder(conn, restricted_settings.lock_key)
    finally:
        conn.close()
    assert seen is not None and seen.since is None
    assert seen.describe() == f"pid {running_migration.migration_lock.pid} (pgshift lock, ?)"
