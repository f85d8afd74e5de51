"""A session's role in ``pgshift ps``, and which sessions matter.

pgshift's own sessions are known by ``application_name`` (the runner tags itself
``pgshift up V003__x.sql`` while a migration runs, its lock connection is ``pgshift lock``);
others by what they run (DDL, see ``ddl``), the locks they hold or their reported progress.
A session matters when it has a role, or is in a blocking chain with one that has.
"""

from __future__ import annotations

from dataclasses import replace
from typing import TYPE_CHECKING

from pgshift.monitor import prepared
from pgshift.monitor.ddl import running_statement, sent_name, statement_kind
from pgshift.monitor.sessions import AUTOVACUUM, DDL_LOCK_RANK, LockRef, Session

if TYPE_CHECKING:
    from pgshift.state.lock import LockHolder


def parse_application_name(
    app: str, base: str
) -> tuple[str, str | None, str | None, int | None] | None:
    """``(role, direction, file, statement)`` for a pgshift session's name, None for anyone
    else's.

    The runner names itself ``<base> up V003__x.sql`` (or ``down``) while a migration runs, and
    ``<base> up #2 V003__x.sql`` from the migration's second statement on.
    """
    if app != base and not app.startswith(base + " "):
        return None
    words = app[len(base):].split(maxsplit=1)
    if len(words) == 2 and words[0] in ("up", "down"):
        number, _, file = words[1].partition(" ")
        if number[:1] == "#" and number[1:].isdigit() and file:
            return "migration", words[0], file, int(number[1:])
        return "migration", words[0], words[1], 1
    return (words[0] if words else "runner"), None, None, None


def classify(session: Session, base: str) -> Session:
    parsed = parse_application_name(session.application_name, base)
    if parsed is not None and parsed[0] == "migration":
        # The name the server shows may be cut, or mangled: the runner's string has it whole.
        sent = sent_name(session.query, session.application_name)
        parsed = (parse_application_name(sent, base) if sent else None) or parsed
    if parsed is not None:
        role, direction, file, number = parsed
        if role != "migration":
            role = "pgshift"
        elif session.command is not None and number is not None:
            # The runner sends a migration's statements as one string: name the running one.
            session = replace(session, command=statement_kind(
                running_statement(session.query, number, file)))
        return replace(session, role=role, direction=direction, migration=file,
                       statement=number)
    if session.backend_type == AUTOVACUUM:  # its lock is a vacuum's, not DDL's
        return replace(session, role="maintenance")
    if session.command is not None or any(lock.rank >= DDL_LOCK_RANK for lock in session.holds):
        return replace(session, role="ddl")  # running DDL, or holding a lock only DDL takes
    if session.progress is not None:
        return replace(session, role="maintenance")
    return session


def relevant(sessions: list[Session]) -> list[Session]:
    """pgshift's and DDL sessions, those with progress, and everything in a chain with them.

    pgshift's own onlookers (``ps``, ``kill``, an ``up``'s blocker ``watch``) are left out.
    """
    by_pid = {s.pid: s for s in sessions}
    # prepared transactions count as a blocker of a session that matters, not by themselves
    keep = {s.pid for s in sessions if s.role not in ("other", prepared.ROLE)
            and not _onlooker(s)}
    blocks: dict[int, set[int]] = {}
    for session in sessions:
        for blocker in session.blocked_by:
            blocks.setdefault(blocker, set()).add(session.pid)
    frontier = set(keep)
    while frontier:  # walk both ways: who blocks them, and whom they block
        pid = frontier.pop()
        session = by_pid.get(pid)
        linked = set(blocks.get(pid, ())) | set(session.blocked_by if session else ())
        for other in linked - keep:
            if other in by_pid:
                keep.add(other)
                frontier.add(other)
    chosen = []
    for session in sessions:
        if session.pid not in keep:
            continue
        if session.role == "other":
            role = "waiting" if session.blocked_by else "blocker"
            session = replace(session, role=role)
        chosen.append(session)
    order = {"migration": 0, "pgshift": 1, "ddl": 2, "maintenance": 3, "blocker": 4,
             prepared.ROLE: 4, "waiting": 5}
    return sorted(chosen, key=lambda s: (order.get(s.role, 9), s.pid))


def _onlooker(session: Session) -> bool:
    return session.role == "pgshift" and session.application_name.rsplit(" ", 1)[-1] in (
        "ps", "kill", "watch")


def lock_waiter(session: Session, lock: LockHolder | None, base: str) -> Session:
    """A runner's lock connection that holds no advisory lock polls for the migration lock
    (``pg_try_advisory_lock``, which never waits in ``pg_locks``): say so."""
    if session.application_name != f"{base} lock" or session.waiting_for is not None or any(
            held.locktype == "advisory" for held in session.holds) or (
            lock is not None and lock.pid == session.pid):
        return session
    target = "the migration lock" + (f" (held by pid {lock.pid})" if lock else "")
    return replace(session, waiting_for=LockRef("advisory", "ExclusiveLock", False, target))
