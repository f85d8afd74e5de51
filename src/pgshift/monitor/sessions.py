"""The sessions ``pgshift ps`` shows, read at one moment: each with its locks, progress and
role (see ``roles``), and the Snapshot that holds them all (read by ``activity``).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from pgshift.backfill.progress import BackfillProgress
    from pgshift.monitor.progress import Progress
    from pgshift.state.lock import LockHolder

# Table lock modes, weakest first. From SHARE UPDATE EXCLUSIVE up, only DDL and maintenance
# (VACUUM, CREATE INDEX, ALTER TABLE, LOCK TABLE...) take them.
LOCK_MODES = ("AccessShareLock", "RowShareLock", "RowExclusiveLock", "ShareUpdateExclusiveLock",
              "ShareLock", "ShareRowExclusiveLock", "ExclusiveLock", "AccessExclusiveLock")
DDL_LOCK_RANK = LOCK_MODES.index("ShareUpdateExclusiveLock")
AUTOVACUUM = "autovacuum worker"  # pg_stat_activity.backend_type


@dataclass(frozen=True)
class LockRef:
    """A lock a session holds or waits for."""

    locktype: str
    mode: str
    granted: bool
    target: str
    wait_s: float | None = None

    def describe(self) -> str:
        return f"{self.mode} on {self.target}"

    @property
    def rank(self) -> int:
        """Strength of a table lock (0 weakest); -1 for other kinds of locks."""
        return LOCK_MODES.index(self.mode) if self.locktype == "relation" and (
            self.mode in LOCK_MODES) else -1


@dataclass(frozen=True)
class Session:
    """One backend on the target database, with what pgshift knows about its role."""

    pid: int
    user: str | None
    application_name: str
    client: str
    backend_type: str | None
    state: str | None
    wait_event_type: str | None
    wait_event: str | None
    query: str
    command: str | None
    xact_age_s: float | None
    query_age_s: float | None
    state_age_s: float | None
    query_start: datetime | None
    blocked_by: tuple[int, ...] = ()
    waiting_for: LockRef | None = None
    holds: tuple[LockRef, ...] = ()
    progress: Progress | None = None
    role: str = "other"
    migration: str | None = None
    direction: str | None = None
    statement: int | None = None  # the number of the migration's statement running
    xact_start: datetime | None = None
    backend_start: datetime | None = None  # with the pid, which session this is: pids are reused

    @property
    def hidden(self) -> bool:
        """Another role's session, which this role may not look into: its state, query,
        client and times read as NULL (``pg_read_all_stats`` would show them)."""
        return self.state is None and self.backend_type is None

    @property
    def waiting(self) -> bool:
        return self.wait_event_type == "Lock"

    @property
    def idle_in_transaction(self) -> bool:
        return bool(self.state and self.state.startswith("idle in transaction"))

    @property
    def wait_s(self) -> float | None:
        """How long it has waited for its lock (None when not waiting)."""
        if not self.waiting:
            return None
        if self.waiting_for is not None and self.waiting_for.wait_s is not None:
            return self.waiting_for.wait_s
        return self.state_age_s

    @property
    def killable(self) -> bool:
        """A migration or DDL session, or the runner's between statements (named pgshift's
        base name alone, as while it sleeps between lock retries): ``kill`` acts on these
        without ``--force``."""
        runner = self.role == "pgshift" and " " not in self.application_name
        return self.role in ("migration", "ddl") or self.progress is not None or runner


@dataclass(frozen=True)
class Snapshot:
    """Everything ``pgshift ps`` shows, read at one moment."""

    taken_at: datetime
    database: str
    server_version: int
    pgshift_installed: bool
    migration_lock: LockHolder | None
    sessions: tuple[Session, ...]
    backfills: tuple[BackfillProgress, ...] = field(default_factory=tuple)
    backfills_readable: bool = True  # False: the role may not read pgshift's schema

    def session(self, pid: int) -> Session | None:
        return next((s for s in self.sessions if s.pid == pid), None)

    def blocked_by_pid(self) -> dict[int, list[Session]]:
        """For each blocking pid, the sessions it blocks."""
        tree: dict[int, list[Session]] = {}
        for session in self.sessions:
            for blocker in session.blocked_by:
                tree.setdefault(blocker, []).append(session)
        return tree

    def blocking_roots(self) -> list[Session]:
        """Sessions that block others and wait for no one here: where pile-ups start."""
        tree = self.blocked_by_pid()
        shown = {s.pid for s in self.sessions}
        return [s for s in self.sessions if s.pid in tree
                and not any(b in shown for b in s.blocked_by)]

    def migrations(self) -> list[Session]:
        return [s for s in self.sessions if s.role == "migration"]
