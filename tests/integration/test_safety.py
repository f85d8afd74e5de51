"""Running safely: lock_timeout with retries, the time budget, one runner at a time, kills."""

from __future__ import annotations

import dataclasses
import os
import signal
import subprocess
import sys
import threading
import time

import psycopg2
import pytest
from tests.fixtures.pg import url_with_server_setting

from pgshift import api
from pgshift.db import connect
from pgshift.errors import (
    LockBusyError,
    LockTimeoutError,
    MigrationFailedError,
    MigrationTimeoutError,
)
from pgshift.state import upgrades


def hold_lock(url: str, statement: str, seconds: float) -> threading.Thread:
    """Another session takes a lock and keeps it ``seconds`` (the app's long transaction)."""
    ready = threading.Event()

    def run() -> None:
        conn = psycopg2.connect(url)
        with conn.cursor() as cur:
            cur.execute(statement)
            ready.set()
            time.sleep(seconds)
        conn.rollback()
        conn.close()

    thread = threading.Thread(target=run, daemon=True)
    thread.start()
    ready.wait(10)
    return thread


@pytest.fixture
def table_a(settings, write_migration) -> None:
    write_migration("V1__a.sql", "CREATE TABLE a (id int);", "DROP TABLE a;")
    api.up(settings)


def test_lock_timeout_rolls_back_and_retries_until_the_lock_is_free(
    settings, write_migration, table_a, database_url, query
) -> None:
    write_migration(
        "V2__col.sql", "ALTER TABLE a ADD COLUMN b int;", "ALTER TABLE a DROP COLUMN b;"
    )
    holder = hold_lock(database_url, "SELECT * FROM a", 1.5)
    events: list[str] = []
    fast = dataclasses.replace(settings, lock_timeout=0.1, lock_retries=20)
    result = api.up(fast, on_event=lambda kind, m, info: events.append(kind))
    holder.join()
    assert result.outcomes[0].attempts > 1
    assert "retry" in events
    assert query("SELECT count(*) FROM information_schema.columns WHERE column_name = 'b'") == [
        (1,)
    ]


def test_a_concurrent_index_build_retried_after_a_lock_timeout_drops_its_invalid_index_and_wins(
    settings, write_migration, table_a, database_url, query
) -> None:
    """The build's lock timeout leaves an INVALID index; dropping it waits for the same writer,
    so that wait is retried like the build's, never an internal error."""
    query("INSERT INTO a VALUES (1)")
    write_migration("V2__index.sql", "-- pgshift:no-transaction\n"
                    "CREATE INDEX CONCURRENTLY a_id ON a (id);", "DROP INDEX a_id;")
    writer = hold_lock(database_url, "UPDATE a SET id = id", 1.5)
    events: list[tuple[str, str]] = []
    fast = dataclasses.replace(settings, lock_timeout=0.1, lock_retries=30)
    api.up(fast, on_event=lambda kind, m, info: events.append((kind, info.get("text", ""))))
    writer.join()
    assert ("note", "dropping INVALID index public.a_id left by an interrupted build; "
            "rebuilding it") in events
    assert [kind for kind, _ in events].count("retry") >= 2
    assert query("SELECT indisvalid FROM pg_index WHERE indexrelid = 'a_id'::regclass") == [
        (True,)]


def test_app_queries_do_not_queue_behind_a_waiting_migration(
    settings, write_migration, table_a, database_url
) -> None:
    write_migration(
        "V2__col.sql", "ALTER TABLE a ADD COLUMN b int;", "ALTER TABLE a DROP COLUMN b;"
    )
    holder = hold_lock(database_url, "SELECT * FROM a", 2.0)
    fast = dataclasses.replace(settings, lock_timeout=0.1, lock_retries=30)
    runner = threading.Thread(target=api.up, args=(fast,), daemon=True)
    runner.start()
    worst = 0.0
    conn = psycopg2.connect(database_url)
    conn.autocommit = True
    deadline = time.monotonic() + 1.5
    with conn.cursor() as cur:
        while time.monotonic() < deadline:
            started = time.monotonic()
            cur.execute("SELECT count(*) FROM a")
            worst = max(worst, time.monotonic() - started)
            time.sleep(0.02)
    conn.close()
    holder.join()
    runner.join(20)
    # Without lock_timeout the reads would wait the holder's whole 2 s behind the ALTER.
    assert worst < 0.5


def test_lock_timeout_gives_up_after_the_retries_and_leaves_nothing(
    settings, write_migration, table_a, database_url, query
) -> None:
    write_migration(
        "V2__col.sql", "ALTER TABLE a ADD COLUMN b int;", "ALTER TABLE a DROP COLUMN b;"
    )
    holder = hold_lock(database_url, "SELECT * FROM a", 3)
    fast = dataclasses.replace(settings, lock_timeout=0.05, lock_retries=2)
    with pytest.raises(LockTimeoutError) as caught:
        api.up(fast)
    holder.join()
    assert caught.value.exit_code == 5
    assert "3 attempt(s)" in caught.value.message
    assert query("SELECT count(*) FROM information_schema.columns WHERE column_name = 'b'") == [
        (0,)
    ]


def test_the_budget_cancels_a_slow_migration_and_rolls_it_back(
    settings, write_migration, query
) -> None:
    write_migration(
        "V1__slow.sql",
        "CREATE TABLE s (id int);\nSELECT pg_sleep(30);",
        "DROP TABLE s;",
        header="-- pgshift:timeout 1s",
    )
    started = time.monotonic()
    with pytest.raises(MigrationTimeoutError, match="budget") as caught:
        api.up(settings)
    assert time.monotonic() - started < 10
    assert caught.value.line == 3
    assert query("SELECT to_regclass('s')") == [(None,)]


def test_statement_timeout_cancels_and_rolls_back(settings, write_migration, query) -> None:
    write_migration(
        "V1__slow.sql", "CREATE TABLE s (id int);\nSELECT pg_sleep(30);", "DROP TABLE s;"
    )
    with pytest.raises(MigrationTimeoutError, match="statement"):
        api.up(dataclasses.replace(settings, statement_timeout=0.5))
    assert query("SELECT to_regclass('s')") == [(None,)]


def test_a_second_runner_waits_then_names_the_lock_holder(
    settings, write_migration, database_url
) -> None:
    write_migration("V1__a.sql", "CREATE TABLE a (id int);", "DROP TABLE a;")
    conn = psycopg2.connect(database_url, application_name="other-runner")
    conn.autocommit = True
    with conn.cursor() as cur:
        cur.execute("SELECT pg_advisory_lock(%s)", (settings.lock_key,))
    try:
        with pytest.raises(LockBusyError, match="other-runner") as caught:
            api.up(dataclasses.replace(settings, lock_wait=0.5))
        assert caught.value.exit_code == 4
    finally:
        conn.close()
    assert len(api.up(settings).outcomes) == 1


def test_ten_concurrent_runners_apply_each_migration_exactly_once(
    pgshift_env, write_migration, query
) -> None:
    for n in range(1, 6):
        write_migration(
            f"V{n}__t{n}.sql",
            f"CREATE TABLE t{n} (id int); INSERT INTO counter VALUES ({n});"
            if n > 1
            else "CREATE TABLE counter (n int);",
            f"DROP TABLE t{n};" if n > 1 else "DROP TABLE counter;",
        )
    procs = [
        subprocess.Popen(
            [sys.executable, "-m", "pgshift", "up"],
            env=pgshift_env,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        for _ in range(10)
    ]
    codes = [p.wait(120) for p in procs]
    assert codes == [0] * 10, [p.stderr.read() for p in procs]
    assert query("SELECT n, count(*) FROM counter GROUP BY n ORDER BY n") == [
        (n, 1) for n in range(2, 6)
    ]
    assert query("SELECT count(*) FROM pgshift.history") == [(5,)]


def start_up(env: dict[str, str], *args: str) -> subprocess.Popen:
    return subprocess.Popen(
        [sys.executable, "-m", "pgshift", "up", *args],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


def wait_for(query, statement: str, timeout: float = 15) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if query(statement)[0][0]:
            return
        time.sleep(0.05)
    raise AssertionError(f"never true: {statement}")


# A migration's statements reach the server as one string: the sleep is somewhere in it.
SLEEPS = "FROM pg_stat_activity WHERE query LIKE '%%pg_sleep(60)%%' AND pid <> pg_backend_pid()"
SLEEPING = "SELECT count(*) " + SLEEPS


def test_sigkill_inside_a_transactional_migration_leaves_it_unapplied_and_up_finishes(
    cli, pgshift_env, write_migration, query, settings
) -> None:
    write_migration("V1__a.sql", "CREATE TABLE a (id int);", "DROP TABLE a;")
    write_migration("V2__b.sql", "CREATE TABLE b (id int);\nSELECT pg_sleep(60);", "DROP TABLE b;")
    proc = start_up(pgshift_env)
    wait_for(query, SLEEPING)
    proc.send_signal(signal.SIGKILL)
    proc.wait(10)
    wait_for(query, "SELECT count(*) = 0 " + SLEEPS)
    assert query("SELECT to_regclass('b')") == [(None,)]
    plan = {i.script: i.state for i in api.status(settings).items}
    assert plan == {"V1__a.sql": "applied", "V2__b.sql": "pending"}
    write_migration("V2__b.sql", "CREATE TABLE b (id int);", "DROP TABLE b;")
    assert cli("up").returncode == 0
    assert query("SELECT count(*) FROM pgshift.history WHERE status = 'applied'") == [(2,)]


def test_sigkill_inside_a_no_transaction_migration_is_shown_and_resumed(
    cli, pgshift_env, write_migration, query, settings
) -> None:
    write_migration("V1__a.sql", "CREATE TABLE a (id int);", "DROP TABLE a;")
    write_migration(
        "V2__steps.sql",
        "CREATE INDEX CONCURRENTLY i1 ON a (id);\nSELECT pg_sleep(60);\n"
        "CREATE INDEX CONCURRENTLY i2 ON a (id);",
        "DROP INDEX CONCURRENTLY i2;\nDROP INDEX CONCURRENTLY i1;",
        header="-- pgshift:no-transaction",
    )
    proc = start_up(pgshift_env)
    wait_for(query, SLEEPING)
    proc.send_signal(signal.SIGKILL)
    proc.wait(10)
    item = {i.script: i for i in api.status(settings).items}["V2__steps.sql"]
    assert item.state == "failed" and "interrupted during up after 1" in item.detail
    write_migration(
        "V2__steps.sql",
        "CREATE INDEX CONCURRENTLY i1 ON a (id);\nSELECT pg_sleep(0);\n"
        "CREATE INDEX CONCURRENTLY i2 ON a (id);",
        "DROP INDEX CONCURRENTLY i2;\nDROP INDEX CONCURRENTLY i1;",
        header="-- pgshift:no-transaction",
    )
    result = cli("up")
    assert result.returncode == 0, result.stderr
    assert query("SELECT count(*) FROM pg_index WHERE indrelid = 'a'::regclass AND indisvalid") == [
        (2,)
    ]
    assert {i.script: i.state for i in api.status(settings).items} == {
        "V1__a.sql": "applied",
        "V2__steps.sql": "applied",
    }


def test_sigterm_cancels_the_running_statement_and_exits_143(
    pgshift_env, write_migration, query
) -> None:
    write_migration("V1__a.sql", "CREATE TABLE a (id int);\nSELECT pg_sleep(60);", "DROP TABLE a;")
    proc = start_up(pgshift_env)
    wait_for(query, SLEEPING)
    started = time.monotonic()
    proc.send_signal(signal.SIGTERM)
    assert proc.wait(10) == 143
    assert time.monotonic() - started < 5
    assert "interrupted by SIGTERM" in proc.stderr.read()
    assert query("SELECT to_regclass('a')") == [(None,)]
    assert query("SELECT count(*) FROM pg_locks WHERE locktype = 'advisory'") == [(0,)]


def test_a_runner_that_lost_its_lock_rolls_back_instead_of_applying_twice(
    settings, write_migration, query
) -> None:
    # As if a second runner had applied V1 after an operator killed this runner's lock session.
    from pgshift.errors import LockBusyError
    from pgshift.migrations.discover import discover_migrations
    from pgshift.runner import Runner
    write_migration("V1__a.sql", "CREATE TABLE a (id int);", "DROP TABLE a;")
    api.up(settings)
    query("DROP TABLE a")  # the row still says applied
    (migration,) = discover_migrations(settings.dir)
    conn = psycopg2.connect(settings.url)
    try:
        with pytest.raises(LockBusyError, match="recorded as applied by another runner"):
            Runner(conn, settings).apply(migration, None)
    finally:
        conn.close()
    assert query("SELECT to_regclass('a')") == [(None,)]
    assert query("SELECT count(*) FROM pgshift.history") == [(1,)]


def test_a_runner_that_lost_its_lock_does_not_record_over_a_retried_migration_either(
    settings, write_migration, query
) -> None:
    # This runner saw V1 failed; meanwhile another runner fixed and applied it.
    from pgshift.errors import LockBusyError
    from pgshift.migrations.discover import discover_migrations
    from pgshift.runner import Runner
    from pgshift.state import history

    write_migration("V1__a.sql", "CREATE TABLE a (id int);\nSELECT 1 / 0;", "DROP TABLE a;")
    with pytest.raises(MigrationFailedError):
        api.up(settings)
    conn = psycopg2.connect(settings.url)
    conn.autocommit = True
    try:
        (failed,) = history.read(conn, settings.schema)
        assert failed.status == "failed"
        write_migration("V1__a.sql", "CREATE TABLE a (id int);", "DROP TABLE a;")
        api.up(settings)
        query("DROP TABLE a")  # the row still says applied
        (migration,) = discover_migrations(settings.dir)
        with pytest.raises(LockBusyError, match="recorded as applied by another runner"):
            Runner(conn, settings).apply(migration, failed)
    finally:
        conn.close()
    assert query("SELECT to_regclass('a')") == [(None,)]
    assert query("SELECT status FROM pgshift.history") == [("applied",)]


def test_down_refuses_while_a_no_transaction_migration_is_half_applied(
    pgshift_env, write_migration, query, settings
) -> None:
    # Rolling back V1 would drop the table and the index V2 built, and resuming V2 afterwards
    # would record it applied without its index.
    from pgshift.errors import DriftError

    write_migration("V1__a.sql", "CREATE TABLE a (id int);", "DROP TABLE a;")
    write_migration("V2__i.sql", "CREATE INDEX CONCURRENTLY i ON a (id);\nSELECT pg_sleep(60);",
                    "DROP INDEX CONCURRENTLY i;", header="-- pgshift:no-transaction")
    proc = start_up(pgshift_env)
    wait_for(query, SLEEPING)
    proc.send_signal(signal.SIGKILL)
    proc.wait(10)
    with pytest.raises(DriftError, match="finish it before rolling anything back"):
        api.down(settings, everything=True)
    assert query("SELECT to_regclass('a') IS NOT NULL") == [(True,)]


def test_the_lock_and_migration_sessions_have_the_server_probe_a_silent_client(
    settings
) -> None:
    # A runner whose host froze keeps no lock for hours: the server gives up on it in ~25 s.
    from pgshift.runner import Runner
    from pgshift.state.lock import advisory_lock

    def probing(conn) -> tuple[str, ...]:
        with conn.cursor() as cur:
            cur.execute("SELECT current_setting('tcp_keepalives_idle'), "
                        "current_setting('tcp_keepalives_interval'), "
                        "current_setting('tcp_keepalives_count')")
            return cur.fetchone()

    lock_conn, run_conn = psycopg2.connect(settings.url), psycopg2.connect(settings.url)
    lock_conn.autocommit = True
    try:
        with advisory_lock(lock_conn, settings.lock_key, wait=1):
            assert probing(lock_conn) == ("10", "5", "3")
        Runner(run_conn, settings)
        assert probing(run_conn) == ("10", "5", "3")
    finally:
        lock_conn.close()
        run_conn.close()


def test_a_signal_while_pgshifts_tables_are_installed_is_an_interruption_not_an_error(
    settings, table_a, app_session
) -> None:
    """psycopg2 closes a connection whose statement a signal cancelled: install must not
    touch it again (a rollback would raise an InterfaceError in place of the interruption,
    and the CLI would exit 70 instead of 130 or 143)."""
    holder = app_session("ddl")
    with holder.cursor() as cur:
        cur.execute("LOCK TABLE pgshift.meta IN ACCESS EXCLUSIVE MODE")

    def interrupt(signum: int, frame: object) -> None:
        raise KeyboardInterrupt

    previous = signal.signal(signal.SIGUSR1, interrupt)
    conn = connect(settings)
    try:
        threading.Timer(0.3, os.kill, (os.getpid(), signal.SIGUSR1)).start()
        with pytest.raises(KeyboardInterrupt):
            upgrades.install(conn, settings.schema)  # waits for the lock on pgshift.meta
        assert conn.closed
    finally:
        signal.signal(signal.SIGUSR1, previous)
        conn.close()
        holder.rollback()


# -- a migration's session settings ------------------------------------------------------------


def test_what_a_migration_sets_for_the_session_reaches_neither_pgshift_nor_the_next_migration(
    settings, write_migration, query
) -> None:
    write_migration("V1__sets.sql", "SET lock_timeout = '5s';\nSET DateStyle = 'SQL, DMY';\n"
                    "SET search_path = pg_catalog;\nSET statement_timeout = '40s';\n"
                    "CREATE TABLE public.a (id int);", "DROP TABLE public.a;")
    write_migration("V2__sees.sql", "CREATE TABLE seen AS SELECT current_setting('lock_timeout') "
                    "AS lock_timeout, current_setting('DateStyle') AS datestyle, "
                    "current_setting('search_path') AS search_path, "
                    "current_setting('statement_timeout') AS statement_timeout;",
                    "DROP TABLE seen;")
    for i in range(3, 12):  # quick ones after: they would chain with it
        write_migration(f"V{i}__t{i}.sql", f"CREATE TABLE t{i} (id int);", f"DROP TABLE t{i};")
    api.up(settings)
    assert query("SELECT * FROM seen") == [("500ms", "ISO, MDY", '"$user", public', "10min")]
    assert [i.state for i in api.status(settings).items] == ["applied"] * 11  # dates read


@pytest.mark.parametrize("sets", [
    "SELECT set_config('lock_timeout', '5s', false), set_config('DateStyle', 'SQL, DMY', false);",
    "SELECT set_config(name, value, false) FROM (VALUES ('lock_timeout', '5s'), "
    "('datestyle', 'SQL, DMY')) AS s(name, value);",
    "DO $$ BEGIN PERFORM set_config('lock_timeout', '5s', false); "
    "PERFORM set_config('DateStyle', 'SQL, DMY', false); END $$;",
], ids=["constant names", "names from a query", "in a DO block"])
def test_what_set_config_sets_for_the_session_is_reset_like_set(
    settings, write_migration, query, sets
) -> None:
    write_migration("V1__sets.sql", f"{sets}\nCREATE TABLE a (id int);", "DROP TABLE a;")
    write_migration("V2__sees.sql", "CREATE TABLE seen AS SELECT current_setting('lock_timeout') "
                    "AS lock_timeout, current_setting('DateStyle') AS datestyle;",
                    "DROP TABLE seen;")
    api.up(settings)
    assert query("SELECT * FROM seen") == [("500ms", "ISO, MDY")]
    assert [i.state for i in api.status(settings).items] == ["applied"] * 2


@pytest.mark.parametrize("single", [False, True])
def test_a_search_path_a_function_sets_for_the_session_does_not_reach_the_next_migration(
    settings, write_migration, query, single
) -> None:
    """No reading of the migration's text sees what a function it calls sets."""
    query("CREATE SCHEMA other")
    write_migration("V1__fn.sql", "CREATE FUNCTION use_schema(s text) RETURNS void LANGUAGE sql "
                    "AS $$ SELECT set_config('search_path', s, false) $$;\n"
                    "SELECT use_schema('other');", "DROP FUNCTION use_schema(text);")
    write_migration("V2__users.sql", "CREATE TABLE users (id int);", "DROP TABLE users;")
    if not single:  # a no-transaction file cannot join one transaction
        write_migration("V3__nt.sql", "SELECT use_schema('other');", "SELECT 1;",
                        header="-- pgshift:no-transaction")
    write_migration("V4__orders.sql", "CREATE TABLE orders (id int);", "DROP TABLE orders;")
    api.up(dataclasses.replace(settings, single_transaction=single))
    assert query("SELECT to_regclass('public.users') IS NOT NULL, "
                 "to_regclass('public.orders') IS NOT NULL") == [(True, True)]
    api.down(settings, everything=True)
    assert query("SELECT to_regclass('public.users')") == [(None,)]


@pytest.mark.parametrize("single", [False, True])
def test_a_role_a_function_sets_for_the_session_does_not_reach_the_next_migration(
    settings, write_migration, query, single
) -> None:
    """A role that may write pgshift's history: nothing fails to show the switch."""
    role = f"leak_{query('SELECT current_database()')[0][0]}"
    query(f"CREATE ROLE {role}; GRANT ALL ON SCHEMA public TO {role}; "
          f"GRANT pg_read_all_data, pg_write_all_data TO {role}")
    try:
        write_migration("V1__fn.sql", "CREATE FUNCTION become(r text) RETURNS void "
                        "LANGUAGE sql AS $$ SELECT set_config('role', r, false) $$;\n"
                        f"SELECT become('{role}');", "DROP FUNCTION become(text);")
        write_migration("V2__users.sql", "CREATE TABLE users (id int);", "DROP TABLE users;")
        api.up(dataclasses.replace(settings, single_transaction=single))
        assert query("SELECT tableowner = current_user FROM pg_tables "
                     "WHERE tablename = 'users'") == [(True,)]
    finally:
        query(f"DROP OWNED BY {role}; DROP ROLE {role}")


def test_session_replication_role_a_function_sets_does_not_reach_the_next_migration(
    settings, write_migration, query
) -> None:
    """Under 'replica', the next migration's triggers and foreign keys would not fire."""
    write_migration("V1__fn.sql", "CREATE FUNCTION as_replica() RETURNS void LANGUAGE sql "
                    "AS $$ SELECT set_config('session_replication_role', 'replica', false) $$;\n"
                    "SELECT as_replica();", "DROP FUNCTION as_replica();")
    write_migration("V2__sees.sql", "CREATE TABLE seen AS "
                    "SELECT current_setting('session_replication_role') AS role;",
                    "DROP TABLE seen;")
    api.up(settings)
    assert query("SELECT role FROM seen") == [("origin",)]


def test_a_temporary_table_of_one_migration_does_not_hide_a_table_of_the_next(
    settings, write_migration, query
) -> None:
    write_migration("V1__users.sql", "CREATE TABLE users (id int, email text);\n"
                    "INSERT INTO users VALUES (1, 'a@x'), (2, 'b@x');", "DROP TABLE users;")
    write_migration("V2__fix.sql", "CREATE TEMP TABLE email_map AS SELECT id, email FROM users;\n"
                    "UPDATE users SET email = upper(email);", "SELECT 1;")
    write_migration("V3__map.sql", "CREATE TABLE email_map (id int, email text);\n"
                    "INSERT INTO email_map SELECT id, lower(email) FROM users;",
                    "DROP TABLE email_map;")
    api.up(settings)
    assert query("SELECT count(*) FROM public.email_map") == [(2,)]


def test_what_else_a_migration_leaves_in_the_session_does_not_reach_the_next(
    settings, write_migration, query
) -> None:
    write_migration("V1__leaves.sql", "PREPARE q AS SELECT 1;\nLISTEN somewhere;\n"
                    "SELECT pg_advisory_lock(4242);\n"
                    "DECLARE c CURSOR WITH HOLD FOR SELECT 1;", "SELECT 1;")
    write_migration("V2__sees.sql", "CREATE TABLE seen AS SELECT "
                    "(SELECT count(*) FROM pg_prepared_statements) AS prepared, "
                    "(SELECT count(*) FROM pg_listening_channels()) AS listening, "
                    "(SELECT count(*) FROM pg_locks WHERE locktype = 'advisory' "
                    "AND pid = pg_backend_pid()) AS locks, "
                    "(SELECT count(*) FROM pg_cursors) AS cursors;", "DROP TABLE seen;")
    api.up(settings)
    assert query("SELECT * FROM seen") == [(0, 0, 0, 0)]


def test_in_one_transaction_a_migrations_set_local_does_not_reach_the_next(
    settings, write_migration, query
) -> None:
    write_migration("V1__a.sql", "CREATE TABLE a (id int);\n"
                    "SELECT set_config('search_path', '', true);\n"
                    "SET LOCAL lock_timeout = '7s';", "DROP TABLE public.a;")
    write_migration("V2__b.sql", "CREATE TABLE b AS SELECT count(*) AS n, "
                    "current_setting('lock_timeout') AS lock_timeout FROM a;",
                    "DROP TABLE public.b;")
    api.up(dataclasses.replace(settings, single_transaction=True))
    assert query("SELECT n, lock_timeout FROM b") == [(0, "500ms")]


@pytest.mark.parametrize("event", ["beforeMigrate", "beforeEachMigrate", "afterEachMigrate"])
def test_what_a_callback_sets_for_the_session_reaches_neither_pgshift_nor_a_migration(
    settings, write_migration, migrations_dir, query, event
) -> None:
    (migrations_dir / f"{event}.sql").write_text(
        "SET DateStyle = 'SQL, DMY'; SET TimeZone = 'Pacific/Kiritimati'; "
        "SET IntervalStyle = 'sql_standard'; SET lock_timeout = '9s';\n")
    for i in (1, 2):
        write_migration(f"V{i}__t{i}.sql", f"CREATE TABLE t{i} AS SELECT "
                        "current_setting('DateStyle') AS datestyle, "
                        "current_setting('lock_timeout') AS lock_timeout;", f"DROP TABLE t{i};")
    api.up(settings)
    expected = "SQL, DMY" if event == "beforeEachMigrate" else "ISO, MDY"
    assert query("SELECT datestyle FROM t2") == [(expected,)]  # its own, at most
    assert [i.state for i in api.status(settings).items] == ["applied", "applied"]


def test_a_no_transaction_migration_keeps_its_setting_for_its_own_statements_only(
    settings, write_migration, query
) -> None:
    write_migration("V1__build.sql", "CREATE TABLE a (id int);", "DROP TABLE a;")
    write_migration("V2__index.sql", "SET maintenance_work_mem = '77MB';\n"
                    "CREATE TABLE during AS SELECT current_setting('maintenance_work_mem') AS m;\n"
                    "CREATE INDEX CONCURRENTLY a_id ON a (id);",
                    "DROP INDEX CONCURRENTLY a_id;\nDROP TABLE during;",
                    header="-- pgshift:no-transaction")
    write_migration("V3__after.sql", "CREATE TABLE after AS SELECT "
                    "current_setting('maintenance_work_mem') AS m;", "DROP TABLE after;")
    api.up(settings)
    assert query("SELECT m FROM during") == [("77MB",)]
    assert query("SELECT m FROM after") != [("77MB",)]


def test_a_setting_that_stops_pgshifts_bookkeeping_fails_the_migration_clearly(
    settings, write_migration, query
) -> None:
    write_migration("V1__ro.sql", "SET default_transaction_read_only = on;\n"
                    "CREATE TABLE c (id int);", "DROP TABLE c;",
                    header="-- pgshift:no-transaction")
    with pytest.raises(MigrationFailedError, match="could not record its progress") as raised:
        api.up(settings)
    assert (raised.value.migration, raised.value.line) == ("V1", 2)
    assert query("SELECT status, statements_done FROM pgshift.history") == [("running", 0)]
    assert api.status(settings).items[0].state == "failed"  # read as pgshift wrote it


def test_a_role_left_set_that_may_not_write_the_history_fails_with_the_way_out(
    settings, write_migration, query
) -> None:
    [(role,)] = query("SELECT current_database() || '_app'")
    query(f'CREATE ROLE "{role}" NOLOGIN')
    try:
        write_migration("V1__as_app.sql", f'CREATE TABLE b (id int);\nSET ROLE "{role}";',
                        "DROP TABLE b;")
        with pytest.raises(MigrationFailedError, match="permission denied") as raised:
            api.up(settings)
        assert raised.value.line == 2 and "RESET ROLE" in (raised.value.hint or "")
        assert query("SELECT to_regclass('b') IS NULL") == [(True,)]
    finally:
        query(f'DROP ROLE "{role}"')


def test_a_runner_whose_lock_session_is_ended_stops_before_the_next_migration(
    settings, write_migration, query
) -> None:
    """Another runner could hold the lock from then on: going on would run two at once."""
    write_migration("V1__a.sql", "CREATE TABLE a (id int);", "DROP TABLE a;")
    write_migration("V2__slow.sql", "SELECT pg_sleep(2);", "SELECT 1;")
    write_migration("V3__c.sql", "CREATE TABLE c (id int);", "DROP TABLE c;",
                    header="-- pgshift:lock-timeout 2s")  # its own round trip, not V2's
    failures: list[BaseException] = []

    def run() -> None:
        try:
            api.up(settings)
        except BaseException as exc:  # looked at below
            failures.append(exc)

    runner = threading.Thread(target=run)
    runner.start()
    deadline = time.monotonic() + 20
    while not query("SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE "
                    "application_name = 'pgshift lock' AND EXISTS (SELECT FROM "
                    "pg_stat_activity WHERE query LIKE '%pg_sleep(2)%' AND "
                    "pid <> pg_backend_pid())"):
        assert time.monotonic() < deadline, "the slow migration never started"
        time.sleep(0.05)
    runner.join(30)
    assert len(failures) == 1 and isinstance(failures[0], LockBusyError), failures
    assert "lost its migration lock" in failures[0].message
    assert [r[0] for r in query("SELECT key FROM pgshift.history ORDER BY key")] == ["1", "2"]


def test_a_migration_longer_than_the_servers_idle_session_timeout_keeps_the_lock(
    settings, write_migration, query
) -> None:
    """The lock's session idles while the migration runs on the other one."""
    timed = dataclasses.replace(
        settings, url=url_with_server_setting(settings.url, "idle_session_timeout", "300"))
    write_migration("V1__slow.sql", "SELECT pg_sleep(1);", "SELECT 1;")
    write_migration("V2__c.sql", "CREATE TABLE c (id int);", "DROP TABLE c;")
    api.up(timed)
    assert [r[0] for r in query("SELECT key FROM pgshift.history ORDER BY key")] == ["1", "2"]


def test_a_lock_retrys_backoff_longer_than_the_servers_idle_session_timeout_still_applies(
    settings, write_migration, table_a, database_url, query
) -> None:
    timed = dataclasses.replace(
        settings, url=url_with_server_setting(settings.url, "idle_session_timeout", "150"),
        lock_timeout=0.1, lock_retries=20)
    write_migration("V2__col.sql", "ALTER TABLE a ADD COLUMN b int;",
                    "ALTER TABLE a DROP COLUMN b;")
    holder = hold_lock(database_url, "SELECT * FROM a", 1.5)
    result = api.up(timed)
    holder.join()
    assert result.outcomes[0].attempts > 2
    assert query("SELECT count(*) FROM information_schema.columns WHERE column_name = 'b'") == [
        (1,)]


@pytest.mark.pg(">=17")
def test_a_transaction_timeout_set_for_the_server_or_role_gives_way_to_the_migrations_budget(
    settings, write_migration, query
) -> None:
    """pgshift's own limits (statement timeout, the overall budget) bound each migration."""
    timed = dataclasses.replace(
        settings, url=url_with_server_setting(settings.url, "transaction_timeout", "300"))
    write_migration("V1__slow.sql", "SELECT pg_sleep(0.6);\nCREATE TABLE a (id int);",
                    "DROP TABLE a;")
    api.up(timed)
    assert [r[0] for r in query("SELECT key FROM pgshift.history ORDER BY key")] == ["1"]
