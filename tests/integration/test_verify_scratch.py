"""The scratch database verify makes: never left behind by a killed run (the next run drops it and
says so), never taken from a live run, never one another database already has the name of."""

from __future__ import annotations

import signal
import subprocess
import sys
import uuid
from collections.abc import Callable, Iterator

import psycopg2
import pytest
from tests.fixtures.pg import url_with_dbname, url_with_server_setting
from tests.fixtures.sessions import verify_running_a_slow_migration, wait_for

from pgshift import api
from pgshift.verify.databases import KEEPER

SCRATCH = "SELECT datname FROM pg_database WHERE datname LIKE 'pgshift\\_verify\\_%' ORDER BY 1"


@pytest.fixture
def server_database(admin_url: str) -> Iterator[Callable[[str], str]]:
    """``make(name)`` creates a database on the test server; any left are dropped after."""
    made: list[str] = []

    def make(name: str) -> str:
        admin(admin_url, f'CREATE DATABASE "{name}"')
        made.append(name)
        return name

    yield make
    for name in made:
        admin(admin_url, f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def admin(url: str, statement: str, *, application_name: str = "pgshift-tests") -> list[tuple]:
    conn = psycopg2.connect(url, application_name=application_name)
    conn.autocommit = True
    try:
        with conn.cursor() as cur:
            cur.execute(statement)
            return cur.fetchall() if cur.description else []
    finally:
        conn.close()


def write_table_migration(write_migration: Callable[..., object]) -> None:
    write_migration("V001__t.sql", "CREATE TABLE t (id int);", "DROP TABLE t;")


def test_a_scratch_database_a_killed_run_left_is_dropped_by_the_next_run_which_says_so(
    settings, write_migration, admin_url, server_database
) -> None:
    left = server_database(f"pgshift_verify_{uuid.uuid4().hex[:10]}")  # no run keeps it
    write_table_migration(write_migration)
    report = api.verify(settings)
    assert report.ok
    assert left not in [row[0] for row in admin(admin_url, SCRATCH)]
    assert report.scratch.endswith(
        f"; dropped 1 scratch database(s) a killed run had left there: {left}")


def test_the_scratch_database_of_a_live_run_is_never_taken_from_it(
    settings, write_migration, admin_url, server_database
) -> None:
    kept = server_database(f"pgshift_verify_{uuid.uuid4().hex[:10]}")
    sibling = server_database(f"{kept}_{uuid.uuid4().hex[:6]}")  # made by the same run
    in_use = server_database(f"pgshift_verify_{uuid.uuid4().hex[:10]}")
    keeper = psycopg2.connect(admin_url, application_name=KEEPER + kept)
    user = psycopg2.connect(url_with_dbname(admin_url, in_use))  # someone looking at it
    try:
        write_table_migration(write_migration)
        report = api.verify(settings)
        assert report.ok and "dropped" not in report.scratch
        names = [row[0] for row in admin(admin_url, SCRATCH)]
        assert {kept, sibling, in_use} <= set(names)
    finally:
        keeper.close()
        user.close()


def test_a_name_another_database_already_has_is_never_dropped(
    settings, write_migration, admin_url, server_database, monkeypatch
) -> None:
    """The scratch database's name is random; should it be taken, verify takes another
    rather than drop, on its way out, a database that was never its own."""
    taken = server_database("pgshift_verify_0123456789")
    keeper = psycopg2.connect(admin_url, application_name=KEEPER + taken)  # someone's run
    real, names = uuid.uuid4, iter([uuid.UUID(int=0x0123456789 << 88)])
    monkeypatch.setattr("pgshift.verify.scratch.uuid.uuid4", lambda: next(names, None) or real())
    try:
        write_table_migration(write_migration)
        report = api.verify(settings)
        assert report.ok
        assert not report.scratch.startswith(taken)
        assert [row[0] for row in admin(admin_url, SCRATCH)] == [taken]
    finally:
        keeper.close()


def test_a_hung_up_run_drops_its_scratch_database_and_says_so(
    pgshift_env, write_migration, query
) -> None:
    """A closed terminal (or ssh session) sends SIGHUP: handled as SIGTERM is."""
    process = verify_running_a_slow_migration(pgshift_env, write_migration, query)
    try:
        process.send_signal(signal.SIGHUP)
        _, stderr = process.communicate(timeout=30)
    finally:
        process.kill()
    assert process.returncode == 128 + signal.SIGHUP
    assert stderr.splitlines()[-1] == ("pgshift: error: interrupted by SIGHUP: nothing of the "
                                       "target was changed")
    assert query(SCRATCH) == []


def test_after_sigkill_the_next_run_drops_the_scratch_database_left_behind(
    pgshift_env, write_migration, query
) -> None:
    process = verify_running_a_slow_migration(pgshift_env, write_migration, query)
    try:
        process.kill()
        process.communicate(timeout=30)
    finally:
        process.kill()
    [(left,)] = query(SCRATCH)
    # Its backend ends once the server sees that nobody is there (within a second).
    wait_for(lambda: query("SELECT count(*) FROM pg_stat_activity WHERE datname = %s",
                           left) == [(0,)], 20, what="the killed run's session to end")
    write_migration("V001__slow.sql", "SELECT 1;", "SELECT 1;")
    result = subprocess.run([sys.executable, "-m", "pgshift", "verify"], env=pgshift_env,
                            capture_output=True, text=True, timeout=60)
    assert result.returncode == 0, result.stderr
    assert f"dropped 1 scratch database(s) a killed run had left there: {left}" in result.stdout
    assert query(SCRATCH) == []


def test_concurrent_runs_on_one_server_each_keep_their_own_scratch_database(
    pgshift_env, write_migration, query
) -> None:
    write_migration("V001__slow.sql", "CREATE TABLE t (id int);\nSELECT pg_sleep(1);",
                    "DROP TABLE t;")
    runs = [subprocess.Popen([sys.executable, "-m", "pgshift", "verify"], env=pgshift_env,
                             stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
            for _ in range(4)]
    outputs = [run.communicate(timeout=60) for run in runs]
    assert [run.returncode for run in runs] == [0] * 4, outputs
    assert all("dropped" not in stdout for stdout, _ in outputs)
    assert query(SCRATCH) == []


def test_a_role_without_createdb_gets_one_line_saying_how_to_do_without(
    cli, write_migration, query, database_url
) -> None:
    role = f"nocreatedb_{uuid.uuid4().hex[:8]}"
    query(f"CREATE ROLE {role} LOGIN")
    try:
        write_table_migration(write_migration)
        result = cli("verify", "--url", database_url.replace("postgres@", f"{role}:pw@"))
        assert result.returncode == 2
        assert result.stderr.splitlines() == [
            "pgshift: error: cannot create a scratch database: permission denied to create "
            "database (hint: grant CREATEDB to this role, or pass --embedded to use a "
            "throwaway server)"]
        assert query(SCRATCH) == []
    finally:
        query(f"DROP ROLE {role}")


def _url_forms(database_url: str) -> dict[str, str]:
    from urllib.parse import urlsplit

    parts = urlsplit(database_url)
    db = parts.path.lstrip("/")
    return {
        "dbname in the query": f"{parts.scheme}://{parts.netloc}/?dbname={db}",
        "dbname in path and query": f"{parts.scheme}://{parts.netloc}/{db}?dbname={db}",
        "no host part": (f"{parts.scheme}:///{db}?host={parts.hostname}&port={parts.port}"
                         f"&user={parts.username}"),
    }


@pytest.mark.parametrize("form", ["dbname in the query", "dbname in path and query",
                                  "no host part"])
def test_the_scratch_database_is_never_the_target_whatever_form_its_url_takes(
    settings, write_migration, query, database_url: str, form: str
) -> None:
    """libpq lets a dbname query parameter win over the URL's path: the scratch database's
    URL, made from the target's, reached the target, and verify ran the migrations there."""
    import dataclasses

    if not database_url.startswith("postgres"):
        pytest.skip("the test server's URL is a key=value DSN")
    write_migration("V001__t.sql", "CREATE TABLE t (id int);", "DROP TABLE t;")
    report = api.verify(dataclasses.replace(settings, url=_url_forms(database_url)[form]))
    assert report.ok, report.failures()
    assert [m.up_ms is not None for m in report.migrations] == [True]
    assert query("SELECT to_regclass('t'), to_regnamespace('pgshift')") == [(None, None)]
    assert query(SCRATCH) == []


def test_a_keeper_outlives_an_idle_session_timeout_set_for_the_server_or_role(
    settings, admin_url
) -> None:
    """It idles all run long; ended, it would let another run drop the live database."""
    import time

    from pgshift.verify.databases import keep

    keeper = keep(settings, url_with_server_setting(admin_url, "idle_session_timeout", "200"),
                  f"pgshift_verify_{uuid.uuid4().hex[:10]}")
    try:
        time.sleep(0.6)
        with keeper.cursor() as cur:
            cur.execute("SELECT 1")
            assert cur.fetchone() == (1,)
    finally:
        keeper.close()
