"""Times in tables (status, log) are this machine's local time, as ``git log`` shows them,
whatever time zone the server's session has; JSON keeps the exact time with its offset."""

from __future__ import annotations

import json
from datetime import datetime, timedelta

AHEAD = {"TZ": "XST-5:30", "PGTZ": "UTC"}  # a POSIX zone 5:30 ahead of UTC; the server's UTC


def _one_migration(cli, write_migration) -> datetime:
    write_migration("V1__a.sql", "CREATE TABLE a (id int);", "DROP TABLE a;")
    assert cli("up").returncode == 0
    (row,) = json.loads(cli("status", "--json").stdout)["migrations"]
    return datetime.fromisoformat(row["applied_at"])


def test_status_shows_the_applied_time_in_this_machines_zone(cli, write_migration) -> None:
    applied = _one_migration(cli, write_migration)
    utc = applied.replace(tzinfo=None) - applied.utcoffset()
    line = cli("status", env=AHEAD).stdout.splitlines()[1]
    assert (utc + timedelta(hours=5, minutes=30)).strftime("%Y-%m-%d %H:%M:%S") in line


def test_the_run_log_shows_its_start_in_this_machines_zone(cli, write_migration) -> None:
    _one_migration(cli, write_migration)
    (run,) = json.loads(cli("log", "--json").stdout)
    started = datetime.fromisoformat(run["started_at"])
    utc = started.replace(tzinfo=None) - started.utcoffset()
    line = cli("log", env=AHEAD).stdout.splitlines()[1]
    assert (utc + timedelta(hours=5, minutes=30)).strftime("%Y-%m-%d %H:%M:%S") in line
