"""The pytest plugin ``pgshift.testing`` as an application's suite meets it: enabled the usual
ways, a misused marker, a server it cannot reach, xdist workers."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from tests.integration.test_verify_plugin import TWO_TESTS_AT_HEAD, make_project, run_app_tests


def run_with_entry_points(project: Path, *args: str) -> subprocess.CompletedProcess:
    """pytest as an application runs it: pgshift installed, its entry point loaded."""
    env = {k: v for k, v in os.environ.items()
           if not k.startswith(("PGSHIFT_", "PG", "PYTEST_"))}
    return subprocess.run([sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider",
                           *args], cwd=project, env=env, capture_output=True, text=True,
                          timeout=120, check=False)


def test_naming_the_plugin_too_works_with_its_entry_point_loaded(
        tmp_path: Path, admin_url: str) -> None:
    """``pytest_plugins = ["pgshift.testing"]`` in a conftest (or ``-p pgshift.testing`` in
    addopts), as the docs say, must not register it twice: pluggy refuses that."""
    project = make_project(tmp_path, "compat", TWO_TESTS_AT_HEAD)
    (project / "conftest.py").write_text('pytest_plugins = ["pgshift.testing"]\n')
    by_conftest = run_with_entry_points(project, f"--pgshift-url={admin_url}")
    assert by_conftest.returncode == 0, by_conftest.stdout + by_conftest.stderr
    (project / "conftest.py").unlink()
    by_flag = run_with_entry_points(project, "-p", "pgshift.testing",
                                    f"--pgshift-url={admin_url}")
    assert by_flag.returncode == 0, by_flag.stdout + by_flag.stderr


MISUSED = '''
import pytest


@pytest.mark.pgshift_schema("V002")
def test_positional(pgshift_database):
    pass


@pytest.mark.pgshift_schema(before="Vx")
def test_not_a_version(pgshift_database):
    pass
'''


def test_a_misused_marker_fails_its_test_with_one_line(tmp_path: Path, admin_url: str) -> None:
    project = make_project(tmp_path, "compat", MISUSED)
    result = run_app_tests(project, admin_url)
    assert result.returncode == 1
    assert "2 errors" in result.stdout
    assert ('\npgshift: error: use @pytest.mark.pgshift_schema(before="V003") or '
            '(after="V003")\n') in result.stdout
    assert "\npgshift: error: pgshift_schema: not a version: 'Vx'\n" in result.stdout
    assert "testing.py" not in result.stdout  # no traceback through the plugin


def test_a_server_it_cannot_reach_is_named_by_the_plugins_option_without_its_password(
        tmp_path: Path) -> None:
    import socket

    with socket.socket() as sock:  # a port nothing listens on
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    project = make_project(tmp_path, "compat", TWO_TESTS_AT_HEAD)
    result = run_app_tests(project, f"postgresql://app:s3cr3t@127.0.0.1:{port}/app")
    assert result.returncode == 1
    line = (f"\npgshift: error: cannot connect to 127.0.0.1:{port}/app: Connection refused "
            "(hint: check --pgshift-url (or the pgshift_url ini key))\n")
    assert result.stdout.count(line) == 2, result.stdout
    assert "s3cr3t" not in result.stdout + result.stderr


XDIST = '''
import psycopg2
import pytest


@pytest.mark.parametrize("n", range(4))
def test_writes_in_its_own_database(pgshift_database, n):
    conn = psycopg2.connect(pgshift_database)
    conn.autocommit = True
    with conn.cursor() as cur:
        cur.execute("INSERT INTO users (email) VALUES ('x')")
        cur.execute("SELECT count(*), current_database() FROM users")
        count, name = cur.fetchone()
    conn.close()
    assert count == 1
    print("database", name)
'''


def test_xdist_workers_each_migrate_and_clone_their_own_and_drop_them(
        tmp_path: Path, admin_url: str, query) -> None:
    project = make_project(tmp_path, "compat", XDIST)
    result = run_app_tests(project, admin_url, "-p", "xdist", "-n", "2", "-rP")
    assert result.returncode == 0, result.stdout + result.stderr
    names = [line.split()[1] for line in result.stdout.splitlines()
             if line.startswith("database ")]
    assert len(set(names)) == 4
    assert len({name.rsplit("_", 1)[0] for name in names}) == 2  # one session per worker
    assert query("SELECT count(*) FROM pg_database WHERE datname LIKE 'pgshift\\_test\\_%'"
                 ) == [(0,)]
