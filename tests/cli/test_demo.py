"""`pgshift demo`: the spec's recipes, start to finish, with or without a configured database."""

from __future__ import annotations

import os
import subprocess
import sys

import psycopg2


def run_demo(env: dict[str, str]) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "pgshift", "demo"],
        env=env,
        capture_output=True,
        text=True,
        timeout=180,
        cwd="/",
    )


def clean_env() -> dict[str, str]:
    return {
        k: v for k, v in os.environ.items() if not k.startswith(("PGSHIFT_", "PG", "DATABASE_"))
    }


def test_demo_without_a_database_uses_a_throwaway_server() -> None:
    result = run_demo(clean_env())
    assert result.returncode == 0, result.stderr
    out = result.stdout
    assert "Starting a throwaway PostgreSQL server" in out
    assert "Applying V010 posts creator index ... done" in out
    assert "Reverting V010 posts creator index ... done" in out
    assert "9 applied, 1 pending" in out
    assert "Stopping the throwaway server" in out


def test_demo_with_a_configured_database_works_in_a_scratch_database(database_url: str) -> None:
    result = run_demo({**clean_env(), "PGSHIFT_URL": database_url})
    assert result.returncode == 0, result.stderr
    assert "scratch database pgshift_demo_" in result.stdout
    conn = psycopg2.connect(database_url)
    with conn.cursor() as cur:
        cur.execute("SELECT count(*) FROM pg_database WHERE datname LIKE 'pgshift_demo_%'")
        assert cur.fetchone() == (0,)
        cur.execute("SELECT to_regclass('users')")
        assert cur.fetchone() == (None,)  # the configured database itself is untouched
    conn.close()
