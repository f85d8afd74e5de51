"""Who blocks a running migration, sampled live from a helper connection; optionally ended.
Also how far a long one has got, where PostgreSQL reports it (an index build, a VACUUM).

While a statement waits for a lock, ``pg_blocking_pids(runner)`` names the sessions in its way.
A lock timeout rolls the statement back before the runner could ask, so the watch asks from a
connection of its own, a few times a second, while a migration runs. It reports each blocker
once the migration has been blocked for ``notice_after`` seconds.

With ``cancel_idle``, a blocker idle in a transaction (an app that opened a transaction and
forgot it: the usual cause of lock pile-ups) is ended with ``pg_terminate_backend``.
``pg_cancel_backend`` would do nothing to it: it cancels a running statement, and an idle
session runs none. Only sessions idle for ``min_idle`` seconds or more are ended, so an app
transaction between two quick statements is left alone; active blockers never are.

With ``on_progress``, a migration running for ``progress_every`` seconds or more has its
progress (``pgshift.monitor.progress``: phase, blocks or tuples done) reported that often, so a
long ``CREATE INDEX CONCURRENTLY`` does not look like a hung deploy.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from psycopg2.extensions import connection as Connection

    from pgshift.config import Settings
    from pgshift.migrations.model import Migration
    from pgshift.monitor.progress import Progress
    from pgshift.runner import EventHandler

NOTICE_AFTER = 2.0
SAMPLE_SECONDS = 0.1
MIN_IDLE = 1.0
PROGRESS_EVERY = 10.0

_BLOCKERS = """
SELECT b.pid, coalesce(b.application_name, ''), coalesce(host(b.client_addr), 'local'),
       coalesce(b.state, ''), coalesce(b.query, ''),
       extract(epoch FROM now() - b.xact_start)::float8,
       extract(epoch FROM now() - b.state_change)::float8,
       (SELECT r.application_name FROM pg_stat_activity r WHERE r.pid = %(runner)s)
FROM unnest(pg_blocking_pids(%(runner)s)) AS blocking(pid)
JOIN pg_stat_activity b ON b.pid = blocking.pid
UNION ALL  -- prepared transactions: pid 0 to pg_blocking_pids, and no session (see prepared)
SELECT 0, string_agg(quote_literal(p.gid), ', ' ORDER BY p.prepared), '-', 'prepared', '',
       extract(epoch FROM now() - min(p.prepared))::float8, NULL,
       (SELECT r.application_name FROM pg_stat_activity r WHERE r.pid = %(runner)s)
FROM pg_prepared_xacts p
WHERE p.database = current_database() AND 0 = ANY (pg_blocking_pids(%(runner)s))
HAVING count(*) > 0
ORDER BY 1
"""


_END = """
SELECT pg_terminate_backend(pid) FROM pg_stat_activity
WHERE pid = %(pid)s AND pid = ANY (pg_blocking_pids(%(runner)s))
  AND state LIKE 'idle in transaction%%'
  AND now() - state_change >= make_interval(secs => %(min_idle)s)
"""


@dataclass(frozen=True)
class Blocker:
    """A session found blocking the migration; ``ended`` when the watch terminated it."""

    pid: int
    application_name: str
    client: str
    state: str
    query: str
    xact_age_s: float | None
    state_age_s: float | None
    blocked_for_s: float
    migration: str | None
    ended: bool = False

    @property
    def idle_in_transaction(self) -> bool:
        return self.state.startswith("idle in transaction")

    def describe(self) -> str:
        if self.state == "prepared":  # application_name: the names of the transactions
            return (f"pid 0: prepared transaction {self.application_name}, prepared "
                    f"{_seconds(self.xact_age_s)} ago: no session to end; COMMIT PREPARED or "
                    "ROLLBACK PREPARED with its name frees its locks")
        app = self.application_name or "unknown application"
        if self.idle_in_transaction:
            doing = f"idle in transaction for {_seconds(self.state_age_s)}"
        else:
            doing = f"{self.state or 'running'} for {_seconds(self.xact_age_s)}"
        last = " ".join(self.query.split())[:80]
        return f"pid {self.pid} ({app}, {self.client}), {doing}: {last}"


class BlockerWatch:
    """Reports (and with ``cancel_idle`` ends) the sessions blocking the running migration.

    Pass ``watch.chain(handler)`` as the runner's ``on_event``: the runner's ``start`` event
    carries its backend pid. The watch looks only at a migration that has run for a sample
    period (a blocked one always has): its connection opens then, so a run of fast
    migrations never opens it nor queries the server.
    """

    def __init__(self, settings: Settings, on_blocked: Callable[[Blocker], None], *,
                 cancel_idle: bool = False, notice_after: float = NOTICE_AFTER,
                 min_idle: float = MIN_IDLE,
                 on_progress: Callable[[Progress], None] | None = None,
                 progress_every: float = PROGRESS_EVERY) -> None:
        self.settings = settings
        self.on_blocked = on_blocked
        self.cancel_idle = cancel_idle
        self.notice_after = notice_after
        self.min_idle = min_idle
        self.on_progress = on_progress
        self.progress_every = progress_every
        self._progress_at = 0.0  # when progress was last reported (monotonic)
        self.ended: list[Blocker] = []
        self._pid: int | None = None
        self._migration: str | None = None
        self._since: float | None = None
        self._started: float = 0.0  # when the running migration's attempt began (monotonic)
        self._told: set[int] = set()
        self._stop = threading.Event()
        self._guard = threading.Lock()
        self._thread: threading.Thread | None = None

    def __enter__(self) -> BlockerWatch:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def chain(self, handler: EventHandler | None = None) -> EventHandler:
        def on_event(kind: str, migration: Migration, info: dict[str, Any]) -> None:
            self.observe(kind, migration, info)
            if handler is not None:
                handler(kind, migration, info)
        return on_event

    def observe(self, kind: str, migration: Migration, info: dict[str, Any]) -> None:
        if kind == "start" and info.get("pid"):
            with self._guard:
                if self._migration != migration.name:
                    self._since, self._told = None, set()
                self._pid, self._migration = info["pid"], migration.name
                self._started = self._progress_at = time.monotonic()
            self._start()
        elif kind == "done":
            with self._guard:
                self._pid = self._migration = self._since = None

    def close(self) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout=5)

    def _start(self) -> None:
        if self._thread is None:
            self._thread = threading.Thread(target=self._run, name="pgshift-blockers",
                                            daemon=True)
            self._thread.start()

    def _run(self) -> None:
        import psycopg2

        from pgshift.db import connect
        from pgshift.errors import PgshiftError

        conn: Connection | None = None
        try:
            while not self._stop.wait(SAMPLE_SECONDS):
                with self._guard:
                    pid, migration = self._pid, self._migration
                    running = time.monotonic() - self._started
                if pid is None or running < SAMPLE_SECONDS:
                    continue
                if conn is None:
                    conn = connect(self.settings,
                                   application_name=f"{self.settings.application_name} watch")
                self._sample(conn, pid, migration)
                if self.on_progress is not None and (
                        time.monotonic() - self._progress_at >= self.progress_every):
                    self._progress_at = time.monotonic()
                    self._report_progress(conn, pid)
        except (psycopg2.Error, PgshiftError):  # best effort: the migration goes on without it
            pass
        finally:
            if conn is not None:
                conn.close()

    def _sample(self, conn: Connection, pid: int, migration: str | None) -> None:
        with conn.cursor() as cur:
            cur.execute(_BLOCKERS, {"runner": pid})
            rows = cur.fetchall()
        if not rows:
            return
        from pgshift.monitor.activity import private_query
        from pgshift.monitor.roles import parse_application_name

        # The runner's own name says which migration waits: several may travel in one string.
        named = parse_application_name(rows[0][-1] or "", self.settings.application_name)
        if named is not None and named[0] == "migration":
            migration = named[2]
        now = time.monotonic()
        with self._guard:
            if self._since is None:
                self._since = now
            blocked_for = now - self._since
        ended, runner = {b.pid for b in self.ended}, pid
        for row in rows:
            pid, app, client, state, query, xact_age, state_age = row[:-1]
            blocker = Blocker(pid, app, client, state, private_query(query), xact_age, state_age,
                              blocked_for_s=blocked_for, migration=migration)
            if blocker.pid in ended:
                continue
            if self.cancel_idle and blocker.idle_in_transaction and (
                    blocker.state_age_s or 0) >= self.min_idle:
                self._end(conn, blocker, runner)
            elif blocked_for >= self.notice_after and blocker.pid not in self._told:
                self._told.add(blocker.pid)
                self.on_blocked(blocker)

    def _report_progress(self, conn: Connection, pid: int) -> None:
        from pgshift.monitor.progress import read_progress_of

        assert self.on_progress is not None
        for progress in read_progress_of(conn, pid):
            self.on_progress(progress)

    def _end(self, conn: Connection, blocker: Blocker, runner: int) -> None:
        # Only while it still is what the sample saw: the app may have committed (or its pid
        # gone to another session) since, and then it is no one's to end.
        with conn.cursor() as cur:
            cur.execute(_END, {"pid": blocker.pid, "runner": runner, "min_idle": self.min_idle})
            row = cur.fetchone()
        ended = bool(row and row[0])
        if ended:
            gone = Blocker(**{**blocker.__dict__, "ended": True})
            self.ended.append(gone)
            self._told.add(blocker.pid)
            self.on_blocked(gone)


def _seconds(value: float | None) -> str:
    if value is None:
        return "?"
    if value < 120:
        return f"{value:.1f}s"
    return f"{int(value // 60)}m{int(value % 60):02d}s"
