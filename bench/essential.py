"""The essential work of B, C and D alone, as the shortest Python program can do it.

No configuration, no checks, no error handling, no plan: only what no tool in Python can skip.
Like pgshift's executable, it imports the driver without Python's ``ssl`` module (see
``pgshift.cli.main.import_driver_without_ssl``).
``bench/apply.py`` times these beside pgshift and the floors, so that how much room a target
leaves for everything else is measured rather than argued.

- ``status DIR URL``: import the driver, connect, ``stat`` every file of DIR (drift detection
  needs at least that much of each), read the history, and print one line per migration.
- ``up DIR URL`` / ``down DIR URL``: import the driver, connect, and for each ``V*.sql`` file
  (newest first for down) read it, hash it, and send one string: BEGIN, the up (or down) part,
  the history row's INSERT (or DELETE), COMMIT. The history table must exist (``setup``).
"""

from __future__ import annotations

import hashlib
import os
import sys

sys.modules["ssl"] = None  # type: ignore[assignment]  # skipped as pgshift's executable does
import psycopg2  # noqa: E402

del sys.modules["ssl"]

SCHEMA = "essential"
DOWN = "-- pgshift:down"


def setup(url: str) -> None:
    """The history table the ``up``/``down`` programs write (made before any clock starts)."""
    from pgshift.state.upgrades import _UPGRADES

    conn = psycopg2.connect(url)
    with conn, conn.cursor() as cur:
        cur.execute(f"CREATE SCHEMA IF NOT EXISTS {SCHEMA};"
                    + _UPGRADES[0].format(schema=SCHEMA))
    conn.close()


def status(directory: str, url: str) -> None:
    files = sorted((entry.name, entry.stat().st_mtime_ns) for entry in os.scandir(directory))
    cur = psycopg2.connect(url).cursor()
    # The time as the server formats it: no datetime objects made on this side.
    cur.execute("SELECT script, status, to_char(applied_at, 'YYYY-MM-DD HH24:MI:SS'), "
                "duration_ms FROM pgshift.history")
    applied = {row[0]: row for row in cur.fetchall()}
    lines = []
    for name, _ in files:
        row = applied.get(name)
        if row is None:
            lines.append(f"{name} pending")
        else:
            lines.append(f"{name:<40} {row[1]:<8} {row[2]} {row[3]} ms")
    sys.stdout.write("\n".join(lines) + "\n")


def apply(directory: str, url: str, direction: str) -> None:
    conn = psycopg2.connect(url)
    conn.autocommit = True
    cur = conn.cursor()
    names = sorted((n for n in os.listdir(directory) if n.startswith("V")),
                   reverse=direction == "down")
    for name in names:
        with open(os.path.join(directory, name), "rb") as handle:
            text = handle.read().decode()
        up, _, down = text.partition(DOWN)
        version = name[1:name.index("__")]
        if direction == "up":
            record = cur.mogrify(
                f"INSERT INTO {SCHEMA}.history (key, version, description, kind, script, "
                "checksum, status) VALUES (%s, %s, %s, 'versioned', %s, %s, 'applied')",
                (version, version, name, name, hashlib.sha256(text.encode()).hexdigest()))
            cur.execute(f"BEGIN;{up}\n;{record.decode()};COMMIT")
        else:
            delete = cur.mogrify(f"DELETE FROM {SCHEMA}.history WHERE key = %s", (version,))
            cur.execute(f"BEGIN;{down}\n;{delete.decode()};COMMIT")


if __name__ == "__main__":
    command, folder, target = sys.argv[1:4]
    if command == "status":
        status(folder, target)
    else:
        apply(folder, target, command)
