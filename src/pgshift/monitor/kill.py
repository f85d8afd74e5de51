"""Cancel or terminate a migration or DDL session, escalating when a cancel has no effect.

``pg_cancel_backend`` cancels the statement a backend is running; the transaction then rolls
back and the session stays. It does nothing to a session that is idle in a transaction: there
is no statement to cancel, and the locks stay held. ``pg_terminate_backend`` ends the session;
PostgreSQL rolls its transaction back. Either way nothing half-done is committed: a transactional
migration and its history row roll back together, and an interrupted no-transaction migration
keeps its ``running`` row, which ``status`` shows and the next ``up`` resumes from.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from typing import TYPE_CHECKING, Literal

from pgshift.errors import InputError
from pgshift.monitor.activity import AUTOVACUUM, Session, Snapshot, read_sessions, snapshot

if TYPE_CHECKING:
    from psycopg2.extensions import connection as Connection

    from pgshift.config import Settings

Action = Literal["cancelled", "terminated", "cancel-ignored"]
POLL_SECONDS = 0.05
SETTLE_SECONDS = 3.0


@dataclass(frozen=True)
class KillResult:
    """What ``kill`` did to one session."""

    pid: int
    action: Action
    effective: bool
    session: Session
    note: str = ""


def kill_session(conn: Connection, settings: Settings, pid: int, *, terminate: bool = False,
                 grace: float | None = None, force: bool = False) -> KillResult:
    """Cancel ``pid``'s statement (or terminate it); escalate after ``grace`` seconds."""
    current = snapshot(conn, settings)
    session = current.session(pid)
    if session is None:
        session = _any_session(conn, pid)
        if session is None:
            raise InputError(f"no session with pid {pid} on database {current.database}"
                             + _elsewhere(conn, pid),
                             hint="'pgshift ps' lists the running migrations and DDL")
    if session.application_name == f"{settings.application_name} lock" and not force:
        _refuse_lock_connection(current, session)
    if not session.killable and not force:
        what = session.command or (session.query.split("\n")[0][:60] or session.state or "?")
        raise InputError(
            f"pid {pid} is not a migration or DDL session ({session.state or 'state hidden'}: "
            f"{what})", hint="pass --force to cancel it anyway")
    return _signal(conn, session, terminate=terminate, grace=grace)


def _refuse_lock_connection(current: Snapshot, session: Session) -> None:
    """A runner's lock connection: ending it frees the migration lock, not the migration."""
    lock = current.migration_lock
    if lock is None or lock.pid != session.pid:
        raise InputError(f"pid {session.pid} is the lock connection of a runner waiting for "
                         "the migration lock: a cancel stops nothing",
                         hint="pass --force --terminate to stop that runner")
    running = [s.pid for s in current.migrations()]
    instead = (f"kill the migration's session (pid {', '.join(map(str, running))}) instead"
               if running else "kill its migration's session instead ('pgshift ps')")
    raise InputError(f"pid {session.pid} is pgshift's lock connection: ending it frees the "
                     "migration lock while its run goes on, and another runner may start",
                     hint=f"{instead}; --force acts on it anyway")


def _elsewhere(conn: Connection, pid: int) -> str:
    """Where ``pid`` is when not on this database (another one, or none: a server process),
    to add to "no session with pid N"; ``""`` when there is no such pid at all."""
    with conn.cursor() as cur:
        cur.execute("SELECT datname, backend_type FROM pg_stat_activity WHERE pid = %s", (pid,))
        row = cur.fetchone()
    if row is None:
        return ""
    database, backend_type = row
    if database is None:
        return f" ({backend_type or 'a server process'}, on no database)"
    return f" (it is on database {database}: connect to that one)"


def kill_stuck(conn: Connection, settings: Settings, *, older_than: float,
               terminate: bool = False, grace: float | None = None) -> list[KillResult]:
    """Kill every migration or DDL session running for more than ``older_than`` seconds.

    Autovacuum is left alone: it is the server's upkeep (a long one may be preventing
    wraparound), and a cancelled one starts again.
    """
    results = []
    for session in snapshot(conn, settings).sessions:
        age = _age(session)
        if session.backend_type == AUTOVACUUM:
            continue
        if session.killable and session.hidden:  # its age is unknown: say so, not "none"
            results.append(KillResult(session.pid, "cancel-ignored", False, session,
                                      "its state and age are hidden from this role: left alone"))
        elif session.killable and session.state != "idle" and age is not None and (
                age > older_than):
            results.append(_signal(conn, session, terminate=terminate, grace=grace))
    return results


def _age(session: Session) -> float | None:
    """How long the migration has run: its transaction, else its statement."""
    return session.xact_age_s if session.xact_age_s is not None else session.query_age_s


def _signal(conn: Connection, session: Session, *, terminate: bool,
            grace: float | None) -> KillResult:
    pid = session.pid
    if terminate:
        return KillResult(pid, "terminated", _terminate(conn, pid), session)
    if session.idle_in_transaction:
        note = "idle in transaction: a cancel has no statement to stop"
        if grace is not None:
            if _sleep_unless_gone(conn, pid, session, grace):  # it ended its transaction
                return KillResult(pid, "cancel-ignored", True, session,
                                  f"it ended its transaction within {grace:g}s: left alone")
            return KillResult(pid, "terminated", _terminate(conn, pid), session,
                              f"{note}, and it still held its locks after {grace:g}s")
        return KillResult(pid, "cancel-ignored", False, session,
                          f"{note}; the session keeps its locks; use --terminate")
    if session.state == "idle":  # between statements: a runner between batches or retries
        return KillResult(pid, "cancel-ignored", False, session,
                          "idle between statements: a cancel has nothing to stop, and the run "
                          "goes on with its next one; use --terminate to end the session")
    _call(conn, "pg_cancel_backend", pid)
    wait = grace if grace is not None else SETTLE_SECONDS
    if _sleep_unless_gone(conn, pid, session, wait):
        return KillResult(pid, "cancelled", True, session)
    if grace is not None:
        note = f"the cancel had no effect within {grace:g}s"
        return KillResult(pid, "terminated", _terminate(conn, pid), session, note)
    return KillResult(pid, "cancelled", False, session,
                      f"still running the same statement after {wait:g}s; try --terminate")


def _terminate(conn: Connection, pid: int) -> bool:
    """Terminate ``pid`` and wait until its backend is gone (its transaction rolled back)."""
    _call(conn, "pg_terminate_backend", pid)
    deadline = time.monotonic() + SETTLE_SECONDS
    while time.monotonic() < deadline:
        if not _alive(conn, pid):
            return True
        time.sleep(POLL_SECONDS)
    return False


def _sleep_unless_gone(conn: Connection, pid: int, session: Session, seconds: float) -> bool:
    """Wait up to ``seconds`` for ``pid`` to stop what it was doing; True once it has."""
    deadline = time.monotonic() + seconds
    while True:
        if _moved_on(conn, pid, session):
            return True
        if time.monotonic() >= deadline:
            return False
        time.sleep(POLL_SECONDS)


def _moved_on(conn: Connection, pid: int, session: Session) -> bool:
    with conn.cursor() as cur:
        cur.execute("SELECT state, query_start, xact_start FROM pg_stat_activity "
                    "WHERE pid = %s", (pid,))
        row = cur.fetchone()
    if row is None:
        return True
    state, query_start, xact_start = row
    if session.idle_in_transaction:  # its transaction ended (running on in it is no end)
        return xact_start is None or xact_start != session.xact_start
    return state != "active" or query_start != session.query_start


def _alive(conn: Connection, pid: int) -> bool:
    with conn.cursor() as cur:
        cur.execute("SELECT 1 FROM pg_stat_activity WHERE pid = %s", (pid,))
        return cur.fetchone() is not None


def _call(conn: Connection, function: str, pid: int) -> bool:
    """``pg_cancel_backend``/``pg_terminate_backend``; a permission error becomes InputError."""
    import psycopg2

    try:
        with conn.cursor() as cur:
            cur.execute(f"SELECT {function}(%s)", (pid,))  # function: one of two constants
            return bool(cur.fetchone()[0])
    except psycopg2.errors.InsufficientPrivilege as exc:
        raise InputError(f"not allowed to signal pid {pid}: {exc.diag.message_primary}",
                         hint="connect as a superuser, the session's owner or a member of "
                              "pg_signal_backend") from None


def _any_session(conn: Connection, pid: int) -> Session | None:
    """A session the snapshot did not keep (neither migration nor DDL), for ``--force``."""
    return next((s for s in read_sessions(conn) if s.pid == pid), None)
