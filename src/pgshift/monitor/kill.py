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
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Literal

from pgshift.errors import InputError
from pgshift.monitor import prepared
from pgshift.monitor.activity import read_sessions, snapshot
from pgshift.monitor.sessions import AUTOVACUUM, Session, Snapshot

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
    if pid == prepared.PID:
        _refuse_prepared(conn)
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


def _refuse_prepared(conn: Connection) -> None:
    """pid 0: how ``ps`` shows prepared transactions, which have no session to signal."""
    found = prepared.read_prepared(conn)
    if found:
        gid = prepared.literal(found[0].gid)
        raise InputError(f"pid 0 stands for {prepared.describe(found)}: no session runs it, "
                         "so there is nothing to cancel or terminate",
                         hint=f"ROLLBACK PREPARED {gid} frees its locks (COMMIT PREPARED {gid} "
                              "commits it instead)")


def _elsewhere(conn: Connection, pid: int) -> str:
    """Why ``pid`` is not one to kill from here, to add to "no session with pid N": on another
    database, on none (a server process), a parallel worker, this very session; ``""`` when
    there is no such pid at all."""
    leader = "leader_pid" if conn.server_version >= 130000 else "NULL::int"
    with conn.cursor() as cur:
        cur.execute(f"SELECT datname, backend_type, {leader}, pid = pg_backend_pid() "
                    "FROM pg_stat_activity WHERE pid = %s", (pid,))
        row = cur.fetchone()
    if row is None:
        return ""
    database, backend_type, leader_pid, own = row
    if own:
        return " (it is this pgshift kill's own session)"
    if leader_pid is not None and leader_pid != pid:  # cancelling it fails its leader's query
        return f" (it is a parallel worker of pid {leader_pid}: kill that one)"
    if database is None:
        return f" ({backend_type or 'a server process'}, on no database)"
    return f" (it is on database {database}: connect to that one)"


def kill_stuck(conn: Connection, settings: Settings, *, older_than: float,
               terminate: bool = False, grace: float | None = None) -> list[KillResult]:
    """Kill every migration or DDL session running for more than ``older_than`` seconds.

    Autovacuum is left alone: it is the server's upkeep (a long one may be preventing
    wraparound), and a cancelled one starts again.
    """
    listed, stuck = [], []
    for session in snapshot(conn, settings).sessions:
        age = _age(session)
        if session.backend_type == AUTOVACUUM:
            continue
        if session.killable and session.hidden:  # its age is unknown: say so, not "none"
            listed.append(KillResult(session.pid, "cancel-ignored", False, session,
                                     "its state and age are hidden from this role: left alone"))
        elif session.killable and session.state != "idle" and age is not None and (
                age > older_than):
            listed.append(session)
            stuck.append(session)
    # Signal them all, then wait for them all: one by one, each session that ignores its
    # cancel would hold up the next by its grace (or SETTLE_SECONDS).
    started = [_start(conn, s, terminate=terminate, grace=grace, same_transaction=True)
               for s in stuck]
    done = dict(zip([s.pid for s in stuck], _finish(conn, started), strict=True))
    return [done[item.pid] if isinstance(item, Session) else item for item in listed]


def _age(session: Session) -> float | None:
    """How long the migration has run: its transaction, else its statement."""
    return session.xact_age_s if session.xact_age_s is not None else session.query_age_s


@dataclass(frozen=True)
class _Pending:
    """A signal sent, its outcome not known yet: ``done`` once ``check()`` is true, else
    ``late()`` (which may escalate) at ``deadline`` (monotonic)."""

    check: Callable[[], bool]
    deadline: float
    done: KillResult
    late: Callable[[], KillResult | _Pending]


def _signal(conn: Connection, session: Session, *, terminate: bool,
            grace: float | None) -> KillResult:
    return _finish(conn, [_start(conn, session, terminate=terminate, grace=grace)])[0]


def _start(conn: Connection, session: Session, *, terminate: bool, grace: float | None,
           same_transaction: bool = False) -> KillResult | _Pending:
    """Signal ``session``, only while its pid is still that session (pids are reused) and,
    with ``same_transaction``, still in the transaction it was listed in."""
    pid = session.pid
    guard = _Guard(session, same_transaction)
    if terminate:
        return _terminate(conn, guard, "")
    if session.idle_in_transaction:
        note = "idle in transaction: a cancel has no statement to stop"
        if grace is None:
            return KillResult(pid, "cancel-ignored", False, session,
                              f"{note}; the session keeps its locks; use --terminate")
        return _Pending(  # nothing to send yet: the grace is for it to end its transaction
            lambda: _moved_on(conn, session), time.monotonic() + grace,
            KillResult(pid, "cancel-ignored", True, session,
                       f"it ended its transaction within {grace:g}s: left alone"),
            lambda: _terminate(conn, guard, f"{note}, and it still held its locks after "
                                           f"{grace:g}s"))
    if session.state == "idle":  # between statements: a runner between batches or retries
        return KillResult(pid, "cancel-ignored", False, session,
                          "idle between statements: a cancel has nothing to stop, and the run "
                          "goes on with its next one; use --terminate to end the session")
    if not _call(conn, "pg_cancel_backend", guard):
        return _gone(session)
    wait = grace if grace is not None else SETTLE_SECONDS
    # Another role's session, without pg_read_all_stats: only its end would show.
    unseen = ("its state is hidden from this role, so whether the cancel stopped it cannot "
              "be seen" if session.hidden else "")

    def late() -> KillResult | _Pending:
        if grace is not None:
            return _terminate(conn, guard, unseen or f"the cancel had no effect within {grace:g}s")
        return KillResult(pid, "cancelled", False, session, unseen + "; use --terminate"
                          if unseen else f"still running the same statement after {wait:g}s; "
                                         "try --terminate")
    return _Pending(lambda: _moved_on(conn, session), time.monotonic() + wait,
                    KillResult(pid, "cancelled", True, session), late)


def _finish(conn: Connection, started: list[KillResult | _Pending]) -> list[KillResult]:
    """Wait for every pending signal together; escalations add pending terminations."""
    results = list(started)
    while True:
        for index, item in enumerate(results):
            if isinstance(item, _Pending) and item.check():
                results[index] = item.done
            elif isinstance(item, _Pending) and time.monotonic() >= item.deadline:
                results[index] = item.late()
        if not any(isinstance(item, _Pending) for item in results):
            return [item for item in results if isinstance(item, KillResult)]
        time.sleep(POLL_SECONDS)


@dataclass(frozen=True)
class _Guard:
    """Which session a signal is for: the pid alone may since name another one."""

    session: Session
    same_transaction: bool

    def where(self) -> tuple[str, dict[str, object]]:
        """A condition on pg_stat_activity that only the session (still as listed) meets."""
        session = self.session
        text = "pid = %(pid)s AND backend_start IS NOT DISTINCT FROM %(started)s"
        if self.same_transaction:
            text += " AND coalesce(xact_start, query_start) IS NOT DISTINCT FROM %(since)s"
        return text, {"pid": session.pid, "started": session.backend_start,
                      "since": session.xact_start or session.query_start}


def _gone(session: Session) -> KillResult:
    return KillResult(session.pid, "cancel-ignored", True, session,
                      "it ended (or finished what it was listed for) before it was signalled: "
                      "nothing was sent")


def _terminate(conn: Connection, guard: _Guard, note: str) -> KillResult | _Pending:
    """Terminate the session; done once its backend is gone (its transaction rolled back)."""
    session = guard.session
    if not _call(conn, "pg_terminate_backend", guard):
        return _gone(session)
    return _Pending(lambda: not _alive(conn, guard), time.monotonic() + SETTLE_SECONDS,
                    KillResult(session.pid, "terminated", True, session, note),
                    lambda: KillResult(session.pid, "terminated", False, session, note))


def _moved_on(conn: Connection, session: Session) -> bool:
    with conn.cursor() as cur:
        cur.execute("SELECT state, query_start, xact_start, backend_start FROM pg_stat_activity "
                    "WHERE pid = %s", (session.pid,))
        row = cur.fetchone()
    if row is None or row[3] != session.backend_start:  # ended (its pid maybe reused)
        return True
    state, query_start, xact_start, _ = row
    if session.hidden:  # state and times read as NULL: only its end shows
        return False
    if session.idle_in_transaction:  # its transaction ended (running on in it is no end)
        return xact_start is None or xact_start != session.xact_start
    return state != "active" or query_start != session.query_start


def _alive(conn: Connection, guard: _Guard) -> bool:
    with conn.cursor() as cur:
        cur.execute("SELECT 1 FROM pg_stat_activity WHERE pid = %(pid)s "
                    "AND backend_start IS NOT DISTINCT FROM %(started)s", guard.where()[1])
        return cur.fetchone() is not None


def _call(conn: Connection, function: str, guard: _Guard) -> bool:
    """``pg_cancel_backend``/``pg_terminate_backend`` on the guarded session: False when it is
    no longer there. A permission error becomes InputError."""
    import psycopg2

    where, params = guard.where()
    try:
        with conn.cursor() as cur:
            # function: one of two constants; in one statement with the check of who has the pid
            cur.execute(f"SELECT {function}(pid) FROM pg_stat_activity WHERE {where}", params)
            return cur.fetchone() is not None
    except psycopg2.errors.InsufficientPrivilege as exc:
        raise InputError(f"not allowed to signal pid {guard.session.pid}: "
                         f"{exc.diag.message_primary}",
                         hint="connect as a superuser, the session's owner or a member of "
                              "pg_signal_backend") from None


def _any_session(conn: Connection, pid: int) -> Session | None:
    """A session the snapshot did not keep (neither migration nor DDL), for ``--force``."""
    return next((s for s in read_sessions(conn) if s.pid == pid), None)
