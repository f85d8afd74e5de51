"""Where pgshift runs: through PgBouncer, on a standby, as a role without privileges."""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import tempfile
from collections.abc import Callable, Iterator
from pathlib import Path

import psycopg2.errors
import pytest

from tests.faults import harness as h

pytestmark = pytest.mark.faults

PGBOUNCER = shutil.which("pgbouncer") or (
    "/usr/sbin/pgbouncer" if os.path.exists("/usr/sbin/pgbouncer") else None)


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def as_owner_of(path: Path) -> dict[str, object]:
    """subprocess arguments to run as the (unprivileged) user owning ``path`` when we are root."""
    if os.geteuid() != 0:
        return {}
    st = path.stat()
    return {"user": st.st_uid, "group": st.st_gid, "extra_groups": []}


@pytest.fixture
def pgbouncer(pg_server) -> Iterator[Callable[[str, str], str]]:
    """``pgbouncer(mode, dbname)`` starts PgBouncer in front of the test server; returns a URL."""
    if PGBOUNCER is None:
        pytest.skip("pgbouncer is not installed (Debian: apt-get install pgbouncer)")
    procs: list[subprocess.Popen] = []
    folders: list[Path] = []

    def start(mode: str, dbname: str) -> str:
        # Beside the server's data: a place its unprivileged user can reach.
        folder = Path(tempfile.mkdtemp(prefix=f"pgbouncer-{mode}-", dir=pg_server.datadir.parent))
        folders.append(folder)
        port = free_port()
        (folder / "users.txt").write_text('"postgres" ""\n')
        (folder / "pgbouncer.ini").write_text(
            f"[databases]\n* = host=127.0.0.1 port={pg_server.port}\n[pgbouncer]\n"
            f"listen_addr = 127.0.0.1\nlisten_port = {port}\nunix_socket_dir =\n"
            f"auth_type = trust\nauth_file = {folder}/users.txt\npool_mode = {mode}\n"
            f"logfile = {folder}/pgbouncer.log\n")
        owner = pg_server.datadir
        os.chown(folder, owner.stat().st_uid, owner.stat().st_gid)
        proc = subprocess.Popen([PGBOUNCER, str(folder / "pgbouncer.ini")],
                                stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                                **as_owner_of(owner))
        procs.append(proc)
        url = f"postgresql://postgres@127.0.0.1:{port}/{dbname}"
        h.wait_until(lambda: _connects(url), 10, "pgbouncer to listen")
        return url

    yield start
    for proc in procs:
        proc.terminate()
        proc.wait(10)
    for folder in folders:
        shutil.rmtree(folder, ignore_errors=True)


def _connects(url: str) -> bool:
    try:
        h.query(url, "SELECT 1")
    except Exception:
        return False
    return True


def dbname(url: str) -> str:
    return url.rsplit("/", 1)[1]


def test_transaction_pooling_is_refused_with_exit_2_and_no_stranded_lock(
    pgbouncer, database_url, write_migration, migrations_dir
) -> None:
    url = pgbouncer("transaction", dbname(database_url))
    write_migration("V1__a.sql", "CREATE TABLE a (id int);", "DROP TABLE a;")
    result = h.run(h.env_for(url, migrations_dir), "up")
    assert result.returncode == 2, result.stderr
    assert "pooler in transaction mode" in result.stderr
    assert h.lock_holders(database_url) == 0
    assert h.history_rows(database_url) == {}
    assert h.run(h.env_for(database_url, migrations_dir), "up").returncode == 0


def test_session_pooling_works_and_a_killed_runner_leaves_no_lock(
    pgbouncer, database_url, write_migration, migrations_dir
) -> None:
    url = pgbouncer("session", dbname(database_url))
    env = h.env_for(url, migrations_dir)
    # PgBouncer refuses PGOPTIONS: the doomed run's sleep comes from a table instead.
    h.query(database_url, "CREATE TABLE naps (s float); INSERT INTO naps VALUES (60)")
    write_migration("V1__a.sql", "CREATE TABLE a (id int);", "DROP TABLE a;")
    write_migration("V2__b.sql", "CREATE TABLE b (id int);\n"
                    "SELECT pg_sleep((SELECT coalesce(max(s), 0) FROM naps));", "DROP TABLE b;")
    proc = h.start(env, "up")
    h.wait_for_statement(database_url)
    h.query(database_url, "DELETE FROM naps")
    proc.kill()
    proc.wait(10)
    # PgBouncer notices the client is gone, and DISCARD ALL (its reset query) frees the lock.
    h.wait_until(lambda: h.lock_holders(database_url) == 0, 15, "the lock to be released")
    result = h.run(env, "up")
    assert result.returncode == 0, result.stderr
    assert h.history_rows(database_url) == {"1": ("applied", 0), "2": ("applied", 0)}


# -- server roles --------------------------------------------------------------------------------


def start_standby(primary, tmp_path: Path) -> tuple[str, subprocess.Popen | None]:
    """A hot standby of ``primary`` from pg_basebackup; returns its URL."""
    folder = primary.datadir.parent / "standby"
    port = free_port()
    run_as = as_owner_of(primary.datadir)
    subprocess.run([str(primary.bindir / "pg_basebackup"), "-D", str(folder), "-R", "-X",
                    "stream", "-c", "fast", "-h", "127.0.0.1", "-p", str(primary.port),
                    "-U", "postgres"],
                   check=True, capture_output=True, timeout=120, **run_as)
    with (folder / "postgresql.conf").open("a") as conf:
        conf.write(f"\nport = {port}\nhot_standby = on\n")
    subprocess.run([str(primary.bindir / "pg_ctl"), "-D", str(folder), "-w", "-l",
                    str(folder.parent / "standby.log"), "start"],
                   check=True, capture_output=True, timeout=120, **run_as)
    return f"postgresql://postgres@127.0.0.1:{port}/app", folder


def test_a_read_only_standby_is_refused_before_anything_runs(
    pg_server_factory, tmp_path, write_migration, migrations_dir
) -> None:
    primary = pg_server_factory()
    h.query(primary.url, "CREATE DATABASE app")
    url, folder = start_standby(primary, tmp_path)
    try:
        h.wait_until(lambda: _connects(url), 30, "the standby")
        assert h.query(url, "SELECT pg_is_in_recovery()") == [(True,)]
        write_migration("V1__a.sql", "CREATE TABLE a (id int);", "DROP TABLE a;")
        result = h.run(h.env_for(url, migrations_dir), "up")
        assert result.returncode == 2, result.stderr
        assert "read-only standby (pg_is_in_recovery() is true)" in result.stderr
        assert "point pgshift at the primary" in result.stderr
        assert h.run(h.env_for(url, migrations_dir), "status").returncode == 0
    finally:
        subprocess.run([str(primary.bindir / "pg_ctl"), "-D", str(folder), "-m", "immediate",
                        "stop"], capture_output=True, timeout=60, **as_owner_of(folder))


def test_a_read_only_session_is_refused_before_anything_runs(
    database_url, write_migration, migrations_dir
) -> None:
    h.query(database_url, f'ALTER DATABASE "{dbname(database_url)}" '
                          "SET default_transaction_read_only = on")
    write_migration("V1__a.sql", "CREATE TABLE a (id int);", "DROP TABLE a;")
    result = h.run(h.env_for(database_url, migrations_dir), "up")
    assert result.returncode == 2, result.stderr
    assert "default_transaction_read_only is on" in result.stderr


@pytest.fixture
def app_role(database_url: str) -> Iterator[str]:
    """A role that can connect but create nothing; yields its URL."""
    role = f"app_{dbname(database_url)}"
    h.query(database_url, f'CREATE ROLE "{role}" LOGIN')
    h.query(database_url, f'REVOKE CREATE ON SCHEMA public FROM PUBLIC, "{role}"')
    yield database_url.replace("postgres@", f"{role}@")
    h.query(database_url, f'DROP OWNED BY "{role}"; DROP ROLE "{role}"')


def test_a_role_without_create_privileges_gets_a_clear_error_before_anything_runs(
    app_role, database_url, write_migration, migrations_dir
) -> None:
    write_migration("V1__a.sql", "CREATE TABLE a (id int);", "DROP TABLE a;")
    env = h.env_for(app_role, migrations_dir)
    result = h.run(env, "up")
    assert result.returncode == 2, result.stderr
    assert "cannot create pgshift's schema pgshift" in result.stderr
    assert "GRANT CREATE ON DATABASE" in result.stderr
    h.query(database_url, f'GRANT CREATE ON DATABASE "{dbname(database_url)}" TO '
                          f'"{app_role.split("//")[1].split("@")[0]}"')
    result = h.run(env, "up")
    assert result.returncode == 2, result.stderr
    assert "no CREATE privilege on schema public" in result.stderr
    assert h.history_rows(database_url) == {}
    assert h.lock_holders(database_url) == 0





def test_a_lock_connection_the_server_refuses_is_one_clear_error_and_nothing_runs(
    database_url, write_migration, migrations_dir
) -> None:
    """The lock's connection opens in the background while up checks its files; when the
    server refuses it (here: a role allowed one connection), up still fails as any refused
    connection does, before anything is applied, and leaves no session behind."""
    role = f"single_{dbname(database_url)}"
    h.query(database_url, f'CREATE ROLE "{role}" LOGIN CONNECTION LIMIT 1')  # superusers: none
    h.query(database_url, f'GRANT CREATE ON DATABASE "{dbname(database_url)}" TO "{role}"; '
                          f'GRANT CREATE ON SCHEMA public TO "{role}"')
    try:
        write_migration("V1__a.sql", "CREATE TABLE a (id int);", "DROP TABLE a;")
        result = h.run(h.env_for(database_url.replace("postgres@", f"{role}@"),
                                 migrations_dir), "up")
        assert result.returncode == 2, result.stderr
        assert "too many connections for role" in result.stderr
        assert "the migration lock's own connection" in result.stderr
        assert "CONNECTION LIMIT" in result.stderr
        assert "Traceback" not in result.stderr and len(result.stderr.splitlines()) == 1
        assert h.query(database_url, "SELECT to_regclass('a')") == [(None,)]
        assert h.history_rows(database_url) == {}
        h.wait_backends_gone(database_url)
    finally:
        h.query(database_url, f'DROP OWNED BY "{role}"; DROP ROLE "{role}"')


OPENSSL = shutil.which("openssl")


def enable_ssl(url: str, folder: Path) -> None:
    """A self-signed certificate for ``url``'s server, written by the server itself (so its
    files belong to the server's user, who may be another user than ours), then SSL on."""
    subprocess.run([OPENSSL, "req", "-new", "-x509", "-days", "1", "-nodes", "-subj",
                    "/CN=localhost", "-keyout", str(folder / "key"), "-out", str(folder / "crt")],
                   check=True, capture_output=True, timeout=60)
    datadir = h.query(url, "SELECT current_setting('data_directory')")[0][0]
    for name, target in (("crt", "server.crt"), ("key", "server.key")):
        lines = (folder / name).read_text().splitlines()
        h.query(url, f"COPY (SELECT unnest(%s::text[])) TO '{datadir}/{target}'", lines)
    os.chmod(Path(datadir, "server.key"), 0o600)  # COPY made it 0644: a key must be private
    for setting, value in (("ssl_cert_file", "server.crt"), ("ssl_key_file", "server.key"),
                           ("ssl", "on")):
        try:
            h.query(url, f"ALTER SYSTEM SET {setting} = '{value}'")
        except psycopg2.errors.InvalidParameterValue as exc:  # e.g. the embedded wheel's
            pytest.skip(f"this server cannot serve SSL: {exc}".strip())
    h.query(url, "SELECT pg_reload_conf()")
    h.wait_until(h.sql_true(url, "SELECT current_setting('ssl') = 'on'"), 10, "ssl on")


@pytest.mark.skipif(OPENSSL is None, reason="needs the openssl command for a certificate")
def test_the_executable_connects_over_ssl_without_importing_pythons_ssl(
    pg_server_factory, tmp_path, write_migration, migrations_dir
) -> None:
    """The executable imports psycopg2 without Python's ssl module (9 ms of every run):
    libpq still negotiates SSL itself."""
    server = pg_server_factory()
    enable_ssl(server.url, tmp_path)
    write_migration("V1__seen.sql", "CREATE TABLE seen AS SELECT ssl, version FROM pg_stat_ssl "
                    "WHERE pid = pg_backend_pid();", "DROP TABLE seen;")
    result = h.run(h.env_for(server.url + "?sslmode=require", migrations_dir), "up")
    assert result.returncode == 0, result.stderr
    assert h.query(server.url, "SELECT ssl, version LIKE 'TLS%' FROM seen") == [(True, True)]


def test_a_role_that_may_write_the_history_but_not_the_run_log_is_told_the_grant(
    app_role, database_url, write_migration, migrations_dir
) -> None:
    """The run log is a table an upgrade adds: where grants name tables one by one, the role
    that runs migrations may lack it. up and down say which GRANT, before anything runs."""
    role = app_role.split("//")[1].split("@")[0]
    write_migration("V1__a.sql", "CREATE TABLE a (id int);", "DROP TABLE a;")
    write_migration("V2__b.sql", "CREATE TABLE b (id int);", "DROP TABLE b;")
    owner = h.env_for(database_url, migrations_dir)
    assert h.run(owner, "up", "--to", "1").returncode == 0  # pgshift's tables, made by another role
    h.query(database_url, f'GRANT USAGE, CREATE ON SCHEMA pgshift, public TO "{role}"; '
                          f'GRANT SELECT, INSERT, UPDATE, DELETE ON pgshift.history TO "{role}"; '
                          f'GRANT SELECT ON pgshift.meta TO "{role}"; '
                          f'ALTER TABLE a OWNER TO "{role}"')
    env = h.env_for(app_role, migrations_dir)
    for command in (["up"], ["down"]):
        result = h.run(env, *command)
        assert result.returncode == 2, result.stderr
        assert f"role {role} cannot write pgshift's run log pgshift.runs; nothing was run" \
            in result.stderr
        assert "GRANT SELECT, INSERT, UPDATE ON pgshift.runs and USAGE ON SEQUENCE " \
               "pgshift.runs_id_seq" in result.stderr and "Traceback" not in result.stderr
    assert h.history_rows(database_url) == {"1": ("applied", 0)}
    h.query(database_url, f'GRANT SELECT, INSERT, UPDATE ON pgshift.runs TO "{role}"; '
                          f'GRANT USAGE ON SEQUENCE pgshift.runs_id_seq TO "{role}"')
    result = h.run(env, "up")
    assert result.returncode == 0, result.stderr


def test_a_role_without_usage_on_pgshifts_schema_is_told_the_grant_not_that_it_was_altered(
    app_role, database_url, write_migration, migrations_dir
) -> None:
    write_migration("V1__a.sql", "CREATE TABLE a (id int);", "DROP TABLE a;")
    assert h.run(h.env_for(database_url, migrations_dir), "up").returncode == 0
    write_migration("V2__b.sql", "CREATE TABLE b (id int);", "DROP TABLE b;")
    env = h.env_for(app_role, migrations_dir)
    for command in ("up", "status", "validate"):
        result = h.run(env, command)
        assert result.returncode == 2, result.stderr
        assert "cannot read pgshift.history: permission denied" in result.stderr
        assert "GRANT USAGE ON SCHEMA pgshift" in result.stderr
        assert "altered by hand" not in result.stderr
    assert h.history_rows(database_url) == {"1": ("applied", 0)}
