"""The pytest plugin ``pgshift.testing``, run as an application would: pytest in a project dir."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

DATA = Path(__file__).resolve().parent.parent / "data" / "verify"

APP_TESTS = '''
import psycopg2
import pytest


def columns(url):
    conn = psycopg2.connect(url)
    with conn.cursor() as cur:
        cur.execute("SELECT column_name FROM information_schema.columns "
                    "WHERE table_name = 'users' ORDER BY ordinal_position")
        names = [r[0] for r in cur.fetchall()]
    conn.close()
    return names


def test_head(pgshift_database):
    assert columns(pgshift_database) == ["id", "email", "bio"]


@pytest.mark.pgshift_schema(before="V002")
def test_old_schema(pgshift_database):
    assert columns(pgshift_database) == ["id", "email", "nickname"]


@pytest.mark.pgshift_schema(after="V002")
def test_new_schema(pgshift_database):
    assert columns(pgshift_database) == ["id", "email"]


@pytest.mark.pgshift_schema(before="V001")
def test_before_everything(pgshift_database):
    assert columns(pgshift_database) == []


def test_each_test_gets_its_own_database(pgshift_database):
    conn = psycopg2.connect(pgshift_database)
    conn.autocommit = True
    conn.cursor().execute("INSERT INTO users (email) VALUES ('x')")
    conn.close()


def test_roundtrip(pgshift_roundtrip):
    report = pgshift_roundtrip()
    assert [m.label for m in report.migrations] == ["V001", "V002", "V003"]
'''


def run_app_tests(project: Path, admin_url: str, *args: str) -> subprocess.CompletedProcess:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("PGSHIFT_", "PG"))}
    env["PYTEST_DISABLE_PLUGIN_AUTOLOAD"] = "1"  # the same with or without the entry point
    return subprocess.run(
        [sys.executable, "-m", "pytest", "-p", "pgshift.testing", "-q", "-p", "no:cacheprovider",
         f"--pgshift-url={admin_url}", *args],
        cwd=project, env=env, capture_output=True, text=True, timeout=120, check=False)


def make_project(tmp_path: Path, migrations: str, tests: str) -> Path:
    shutil.copytree(DATA / migrations / "migrations", tmp_path / "db")
    (tmp_path / "pgshift.toml").write_text('dir = "db"\n')
    (tmp_path / "test_app.py").write_text(tests)
    return tmp_path


def test_plugin_gives_databases_at_head_before_and_after_a_migration(
        tmp_path: Path, admin_url: str) -> None:
    project = make_project(tmp_path, "compat", APP_TESTS)
    result = run_app_tests(project, admin_url)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "6 passed" in result.stdout


def test_plugin_roundtrip_fails_the_test_with_the_schema_diff(tmp_path: Path,
                                                              admin_url: str) -> None:
    tests = "def test_roundtrip(pgshift_roundtrip):\n    pgshift_roundtrip()\n"
    project = make_project(tmp_path, "forgets_index", tests)
    result = run_app_tests(project, admin_url)
    assert result.returncode == 1
    assert "pgshift verify failed:" in result.stdout
    assert "index public.users_email_idx: present after down, absent before up" in result.stdout


def test_plugin_leaves_no_database_behind(tmp_path: Path, admin_url: str) -> None:
    import psycopg2

    project = make_project(tmp_path, "compat", APP_TESTS)
    assert run_app_tests(project, admin_url, "-k", "schema").returncode == 0
    conn = psycopg2.connect(admin_url)
    with conn.cursor() as cur:
        cur.execute("SELECT count(*) FROM pg_database WHERE datname LIKE 'pgshift\\_test\\_%'")
        assert cur.fetchone()[0] == 0
    conn.close()


def test_plugin_module_imports_nothing_but_pytest() -> None:
    code = ("import sys, pgshift.testing; "
            "print(sorted(m for m in sys.modules if m.startswith(('pgshift.', 'psycopg2'))))")
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                            check=True)
    assert result.stdout.strip() == "['pgshift.testing']"


def test_plugin_is_registered_as_a_pytest11_entry_point() -> None:
    from importlib.metadata import entry_points

    assert any(e.value == "pgshift.testing" for e in entry_points(group="pytest11"))


TWO_TESTS_AT_HEAD = '''
def test_one(pgshift_database):
    pass


def test_two(pgshift_database):
    pass
'''


def test_a_failing_migration_fails_every_test_at_that_state_with_one_line(
        tmp_path: Path, admin_url: str) -> None:
    """Never a template migrated half way: the second test would pass against it."""
    project = make_project(tmp_path, "compat", TWO_TESTS_AT_HEAD)
    (project / "db" / "V004__broken.sql").write_text(
        "CREATE TABLE broken (id int);\nSELECT 1 / 0;\n-- pgshift:down\nDROP TABLE broken;\n")
    result = run_app_tests(project, admin_url)
    assert result.returncode == 1
    assert "2 errors" in result.stdout
    line = "pgshift: error: V004__broken.sql:2: division by zero [22012]; rolled back"
    assert result.stdout.count(f"\n{line}\n") == 2
    assert "Traceback" not in result.stdout and "runner.py" not in result.stdout


def test_databases_a_killed_session_left_are_dropped_by_the_next_with_a_warning(
        tmp_path: Path, admin_url: str) -> None:
    import psycopg2

    left = "pgshift_test_deadbeef_0badf00d"
    conn = psycopg2.connect(admin_url)
    conn.autocommit = True
    with conn.cursor() as cur:
        cur.execute(f"CREATE DATABASE {left}")
    project = make_project(tmp_path, "compat", TWO_TESTS_AT_HEAD)
    result = run_app_tests(project, admin_url)
    assert result.returncode == 0, result.stdout
    assert (f"pgshift: dropped 1 test database(s) a killed session had left on the server: "
            f"{left}") in result.stdout
    with conn.cursor() as cur:
        cur.execute("SELECT count(*) FROM pg_database WHERE datname LIKE 'pgshift\\_test\\_%'")
        assert cur.fetchone()[0] == 0
    conn.close()


def test_a_role_that_may_not_create_databases_fails_the_tests_with_one_line(
        tmp_path: Path, admin_url: str, query) -> None:
    role = f"nocreatedb_{os.getpid()}"
    query(f"CREATE ROLE {role} LOGIN")
    try:
        project = make_project(tmp_path, "compat", TWO_TESTS_AT_HEAD)
        result = run_app_tests(project, admin_url.replace("postgres@", f"{role}@"))
        assert result.returncode == 1
        assert result.stdout.count(
            "\npgshift: error: cannot create a test database: permission denied to create "
            "database (hint: grant CREATEDB to the role of --pgshift-url, or leave "
            "--pgshift-url out to use a throwaway server)\n") == 2
    finally:
        query(f"DROP ROLE {role}")
