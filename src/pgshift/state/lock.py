"""One runner at a time: a session-level advisory lock on a connection of its own.

The lock connection stays in autocommit and never holds a transaction open, so the lock lives
exactly as long as the runner's session: a killed runner's lock goes with its connection.
"""

from __future__ import annotations

import contextlib
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime
from functools import partial
from typing import TYPE_CHECKING

from pgshift.errors import LockBusyError

if TYPE_CHECKING:
    from psycopg2.extensions import connection as Connection

POLL_SECONDS = 0.1

_HOLDER = """
SELECT a.pid, a.application_name, CASE WHEN a.backend_start IS NULL THEN '?'  -- hidden from us
       ELSE coalesce(host(a.client_addr), 'local') END, a.backend_start,
       a.state, a.query_start
FROM pg_locks l JOIN pg_stat_activity a ON a.pid = l.pid
WHERE l.locktype = 'advisory' AND l.granted AND l.database = (
        SELECT oid FROM pg_database WHERE datname = current_database())
  AND l.classid = ((%(key)s >> 32) & 4294967295)::oid
  AND l.objid = (%(key)s & 4294967295)::oid AND l.objsubid = 1
LIMIT 1
"""


@dataclass(frozen=True)
class LockHolder:
    """Who holds pgshift's advisory lock."""

    pid: int
    application_name: str
    host: str
    since: datetime | None  # None: a role that may not see the holder's session
    state: str | None

    def describe(self) -> str:
        app = self.application_name or "unknown application"
        since = f" since {self.since:%Y-%m-%d %H:%M:%S%z}" if self.since else ""
        return f"pid {self.pid} ({app}, {self.host or '?'}){since}"


def holder(conn: Connection, key: int) -> LockHolder | None:
    """The session holding the lock, if any (works with or without pgshift installed)."""
    with conn.cursor() as cur:
        cur.execute(_HOLDER, {"key": key})
        row = cur.fetchone()
    return LockHolder(row[0], row[1], row[2], row[3], row[4]) if row else None


def try_acquire(conn: Connection, key: int) -> bool:
    with conn.cursor() as cur:
        cur.execute("SELECT pg_try_advisory_lock(%s)", (key,))
        return bool(cur.fetchone()[0])


def release(conn: Connection, key: int) -> None:
    with conn.cursor() as cur:
        cur.execute("SELECT pg_advisory_unlock(%s)", (key,))


@contextmanager
def advisory_lock(
    conn: Connection,
    key: int,
    *,
    wait: float,
    on_wait: Callable[[LockHolder | None], None] | None = None,
) -> Iterator[Callable[[], None]]:
    """Hold the lock for the block; poll up to ``wait`` seconds, then raise LockBusyError.

    ``on_wait`` is called once, when the first attempt fails, with the current holder. The
    block gets a check that raises LockBusyError once the lock is lost (see ``_check_held``).
    """
    from pgshift.db import SERVER_KEEPALIVE_SQL

    # A frozen host's lock goes with its session (see db); a server's or role's
    # idle_session_timeout must not end it while a long migration runs on the other session.
    idle = ";SET idle_session_timeout = 0" if conn.server_version >= 140000 else ""
    with conn.cursor() as cur:
        cur.execute(SERVER_KEEPALIVE_SQL + idle)
    deadline = time.monotonic() + wait
    told = False
    while not try_acquire(conn, key):
        current = holder(conn, key)
        if not told and on_wait is not None:
            on_wait(current)
            told = True
        if time.monotonic() >= deadline:
            who = current.describe() if current else "another session"
            raise LockBusyError(
                f"another pgshift runner holds the migration lock: {who}",
                hint=f"waited {wait:g}s; retry later, raise --lock-wait, "
                "or inspect with 'pgshift ps'",
            )
        time.sleep(POLL_SECONDS)
    try:
        yield partial(_check_held, conn)
    finally:
        # If the connection died, the server released the lock with it.
        if not conn.closed:
            with contextlib.suppress(Exception):
                release(conn, key)


def _check_held(conn: Connection) -> None:
    """LockBusyError when the lock's session has ended (``pg_terminate_backend``, a server
    restart): the server released the lock with it, and another runner may hold it now.

    A session that ends sends its error and closes the socket, which is then readable: one
    system call, no round trip, so it is asked before every migration. Only then does a query
    tell an ended session from a notice.
    """
    import select

    import psycopg2

    lost = bool(conn.closed)
    if not lost and select.select([conn.fileno()], [], [], 0)[0]:
        try:
            with conn.cursor() as cur:
                cur.execute("SELECT 1")
        except psycopg2.Error:
            lost = True
    if lost:
        raise LockBusyError("pgshift lost its migration lock (its session was ended), so "
                            "another runner may hold it: it stopped before the next migration",
                            hint="what ran before is recorded: see 'pgshift status' and "
                                 "'pgshift log', then run again")
