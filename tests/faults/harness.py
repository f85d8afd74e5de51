"""Tools for the fault-injection suite: run ``pgshift`` as a process, wait, kill, and check.

``check_invariant`` states the guarantee every fault test ends with (docs/guarantees.md): once
the faulty process is gone, each migration is applied exactly once with its history row or not
at all, an interrupted no-transaction migration shows as such, the advisory lock is free and
``status``/``validate`` tell the truth.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from collections.abc import Callable, Iterable
from pathlib import Path

import psycopg2

from pgshift import api
from pgshift.config import Settings

# What a signal's death looks like from the parent: handled (128 + n) or, when it lands before
# pgshift installed its handler (during interpreter start-up), the raw signal (-n).
SIGNAL_EXITS = {
    signal.SIGKILL: {-9},
    signal.SIGTERM: {143, -15},
    signal.SIGINT: {130, -2},
}


def env_for(database_url: str, migrations_dir: Path, **extra: str) -> dict[str, str]:
    """A ``pgshift`` subprocess environment aimed at one database, lint off, no stray PG* vars."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("PGSHIFT_", "PG"))}
    env.update({"PGSHIFT_URL": database_url, "PGSHIFT_DIR": str(migrations_dir),
                "PGSHIFT_LINT": "false", **extra})
    return env


def start(env: dict[str, str], *args: str) -> subprocess.Popen:
    """``pgshift ARGS`` running in the background (text stdout/stderr pipes)."""
    return subprocess.Popen([sys.executable, "-m", "pgshift", *args], env=env,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)


def run(env: dict[str, str], *args: str, timeout: float = 90) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "pgshift", *args], env=env,
                          capture_output=True, text=True, timeout=timeout)


def finish(proc: subprocess.Popen, timeout: float = 30) -> tuple[int, str, str]:
    """Wait for ``proc``; its exit code, stdout and stderr."""
    out, err = proc.communicate(timeout=timeout)
    return proc.returncode, out, err


def query(url: str, statement: str, *params: object) -> list[tuple]:
    conn = psycopg2.connect(url, application_name="pgshift-faults")
    conn.autocommit = True
    try:
        with conn.cursor() as cur:
            cur.execute(statement, params or None)
            return cur.fetchall() if cur.description else []
    finally:
        conn.close()


def wait_until(check: Callable[[], object], timeout: float = 20, what: str = "") -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if check():
            return
        time.sleep(0.03)
    raise AssertionError(f"timed out after {timeout}s waiting for {what or check}")


def sql_true(url: str, statement: str, *params: object) -> Callable[[], bool]:
    return lambda: bool(query(url, statement, *params)[0][0])


# A runner's backends are tagged 'pgshift', 'pgshift up V2__b.sql', 'pgshift lock', ...
RUNNER = ("application_name LIKE 'pgshift%%' AND application_name <> 'pgshift-faults' "
          "AND pid <> pg_backend_pid() AND datname = current_database()")
SLEEPING = ("SELECT count(*) > 0 FROM pg_stat_activity WHERE " + RUNNER +
            " AND application_name <> 'pgshift lock' AND query LIKE %s")


def wait_for_statement(url: str, text: str = "SELECT pg_sleep", timeout: float = 20) -> None:
    """Until a pgshift backend is running a statement containing ``text``."""
    wait_until(sql_true(url, SLEEPING, f"%{text}%"), timeout, f"a pgshift backend in {text!r}")


def pgshift_backends(url: str) -> int:
    return query(url, "SELECT count(*) FROM pg_stat_activity WHERE " + RUNNER)[0][0]


def wait_backends_gone(url: str, timeout: float = 30) -> None:
    """Until every backend of a killed runner has ended (the server noticed the death)."""
    wait_until(lambda: pgshift_backends(url) == 0, timeout, "the runner's backends to end")


def lock_holders(url: str, key: int = Settings.lock_key) -> int:
    return query(url, "SELECT count(*) FROM pg_locks WHERE locktype = 'advisory' "
                      "AND classid = ((%s >> 32) & 4294967295)::oid "
                      "AND objid = (%s & 4294967295)::oid", key, key)[0][0]


def history_rows(url: str) -> dict[str, tuple[str, int]]:
    """key -> (status, statements_done); empty when pgshift never installed its table."""
    if not query(url, "SELECT to_regclass('pgshift.history') IS NOT NULL")[0][0]:
        return {}
    return {k: (s, n) for k, s, n in query(
        url, "SELECT key, status, statements_done FROM pgshift.history")}


def invalid_indexes(url: str) -> list[str]:
    return [r[0] for r in query(url, "SELECT indexrelid::regclass::text FROM pg_index "
                                     "WHERE NOT indisvalid")]


def check_invariant(url: str, migrations_dir: Path, applied_effect: Callable[[str], bool],
                    keys: Iterable[str]) -> dict[str, str]:
    """Assert the guarantee after a fault; return each key's observed state.

    ``applied_effect(key)`` says whether migration ``key``'s effect is in the database (for a
    transactional migration it must match the row exactly).
    """
    wait_backends_gone(url)
    assert lock_holders(url) == 0, "the advisory lock outlived its runner"
    rows = history_rows(url)
    settings = Settings(url=url, dir=migrations_dir, lint=False)
    plan = {i.entry.key if i.entry else None: i for i in api.status(settings).items}
    states = {}
    for key in keys:
        status, _ = rows.get(key, ("absent", 0))
        effect = applied_effect(key)
        states[key] = status
        if status in ("applied",):
            assert effect, f"{key}: recorded as applied but its effect is missing"
            assert plan[key].state == "applied", plan[key]
        elif status in ("running", "reverting"):
            assert plan[key].state == "failed" and "interrupted" in plan[key].detail, plan[key]
        else:
            assert status in ("absent", "failed"), (key, status)
            assert not effect, f"{key}: its effect is there but it is not recorded ({status})"
    return states
