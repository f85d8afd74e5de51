"""What is migrating now: pgshift's sessions, other DDL, their locks, blockers and progress.

One ``snapshot()`` reads ``pg_stat_activity``, ``pg_locks`` (with ``pg_blocking_pids`` for the
sessions waiting on a lock) and the progress views in a few queries, then keeps the sessions
that matter: pgshift's own (by ``application_name``: the runner tags itself
``pgshift up V003__x.sql`` while a migration runs, its lock connection is ``pgshift lock``),
sessions running DDL (by command, see ``ddl``), sessions with reported progress, and every
session in a blocking chain with one of those. Reads only; works where pgshift is not installed.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field, replace
from datetime import datetime
from typing import TYPE_CHECKING

from pgshift.db import redact
from pgshift.monitor import prepared
from pgshift.monitor.ddl import running_statement, sent_name, statement_kind
from pgshift.monitor.progress import Progress, read_backfills, read_progress

if TYPE_CHECKING:
    from psycopg2.extensions import connection as Connection

    from pgshift.backfill.progress import BackfillProgress
    from pgshift.config import Settings
    from pgshift.state.lock import LockHolder

FIRST_USER_OID = 16384
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


_SESSIONS = """
SELECT a.pid, a.usename, coalesce(a.application_name, ''),
       -- no backend_type: a session this role may not look into (its client too is hidden)
       coalesce(host(a.client_addr), CASE WHEN a.backend_type IS NULL THEN '?' ELSE 'local' END),
       a.backend_type, a.state, a.wait_event_type, a.wait_event, coalesce(a.query, ''),
       extract(epoch FROM now() - a.xact_start)::float8,
       extract(epoch FROM now() - a.query_start)::float8,
       extract(epoch FROM now() - a.state_change)::float8, a.query_start, a.xact_start,
       a.backend_start,
       CASE WHEN a.wait_event_type = 'Lock' THEN pg_blocking_pids(a.pid) ELSE '{}'::int[] END
FROM pg_stat_activity a
WHERE a.pid <> pg_backend_pid()
  -- a parallel worker shares its leader's name, query and locks: the leader stands for it
  AND a.backend_type IS DISTINCT FROM 'parallel worker'
  AND (a.datname = current_database() OR a.pid IN (
        SELECT unnest(pg_blocking_pids(w.pid)) FROM pg_stat_activity w
        WHERE w.datname = current_database() AND w.wait_event_type = 'Lock'))
"""

# Prepared transactions' locks have no pid: they go under pid 0, as pg_blocking_pids names them.
_LOCKS = """
WITH locks AS (SELECT l.*, coalesce(l.pid, 0) AS holder FROM pg_locks l
               WHERE l.pid IS DISTINCT FROM pg_backend_pid()),
-- who creates objects in a schema that is not a temporary one (new, or not): the relations
-- such a session created and has not committed may be anyone's tables to be
creating AS (SELECT l.holder FROM locks l LEFT JOIN pg_namespace n ON n.oid = l.objid
             WHERE l.locktype = 'object' AND l.classid = 'pg_namespace'::regclass
               AND coalesce(left(n.nspname, 8), '') <> 'pg_temp_')
SELECT l.holder, l.locktype, l.mode, l.granted,
       CASE l.locktype
         WHEN 'relation' THEN {relation}
         WHEN 'tuple' THEN 'a row of ' || {relation}
         WHEN 'transactionid' THEN 'transaction ' || l.transactionid::text
         WHEN 'virtualxid' THEN 'virtual transaction ' || l.virtualxid
         WHEN 'advisory' THEN 'advisory lock ' ||
              CASE WHEN l.objsubid = 1 THEN ((l.classid::int8 << 32) | l.objid::int8)::text
                   ELSE l.classid::text || ',' || l.objid::text END
         ELSE l.locktype END,
       {waited}
FROM locks l
WHERE (
      NOT l.granted
   OR (l.locktype = 'relation' AND l.relation >= {first_oid}
       AND l.database = (SELECT oid FROM pg_database WHERE datname = current_database())
       -- a temporary table is its session's alone: its locks block no one, even strong ones
       -- (an app's CREATE TEMP TABLE or TRUNCATE of one is no DDL to show or kill)
       AND NOT coalesce((SELECT c.relpersistence = 't' FROM pg_class c
                         WHERE c.oid = l.relation), l.holder NOT IN (SELECT holder FROM creating))
       -- an index's weak locks only repeat its table's
       AND NOT (l.mode IN ('AccessShareLock', 'RowShareLock', 'RowExclusiveLock')
                AND EXISTS (SELECT FROM pg_class c
                            WHERE c.oid = l.relation AND c.relkind IN ('i', 'I'))))
   OR (l.locktype = 'advisory'
       AND l.database = (SELECT oid FROM pg_database WHERE datname = current_database())))
ORDER BY l.holder, l.granted, l.relation  -- a partitioned table before its newer partitions
"""
# A relation's name; by number where it cannot be read here: created by a transaction not yet
# committed (its catalog rows are invisible to others), or in another database (a blocker
# there, on a shared catalog: its own tables' numbers mean other tables here).
_RELATION = """CASE
  WHEN l.database IN (0, (SELECT oid FROM pg_database WHERE datname = current_database()))
  THEN coalesce((SELECT c.oid::regclass::text FROM pg_class c WHERE c.oid = l.relation),
                'new relation ' || l.relation || ' (not committed yet)')
  ELSE 'relation ' || l.relation || ' of database '
       || coalesce((SELECT d.datname FROM pg_database d WHERE d.oid = l.database), '?') END"""


def snapshot(conn: Connection, settings: Settings) -> Snapshot:
    """Read what is happening on ``conn``'s database now (``conn`` in autocommit)."""
    import psycopg2.errors

    from pgshift.state.lock import holder

    # One transaction: PostgreSQL then reads pg_stat_activity and the progress views from one
    # snapshot of the backends, so a build's progress and its session's query agree.
    with conn.cursor() as cur:
        cur.execute("BEGIN READ ONLY")
    try:
        sessions = read_sessions(conn)
        holds, waits = _read_locks(conn)
        progress = {p.pid: p for p in read_progress(conn)}
        if any(prepared.PID in s.blocked_by for s in sessions):  # see prepared
            sessions.append(Session(**prepared.session_fields(prepared.read_prepared(conn))))
    finally:
        with conn.cursor() as cur:
            cur.execute("COMMIT")
    with conn.cursor() as cur:
        # From the catalog: to_regclass needs USAGE on pgshift's schema, which a role that only
        # watches (pg_monitor, say) may lack. It then sees every session, not the backfills.
        cur.execute("SELECT now(), current_database(), EXISTS (SELECT FROM pg_class c "
                    "JOIN pg_namespace n ON n.oid = c.relnamespace "
                    "WHERE n.nspname = %s AND c.relname = 'history')", (settings.schema,))
        taken_at, database, installed = cur.fetchone()
    backfills, readable = [], True
    if installed:
        try:
            backfills = read_backfills(conn, settings.schema)
        except psycopg2.errors.InsufficientPrivilege:
            readable = False
    lock = holder(conn, settings.lock_key)
    enriched = [_classify(replace(s, holds=tuple(holds.get(s.pid, ())),
                                  waiting_for=waits.get(s.pid), progress=progress.get(s.pid)),
                          settings.application_name) for s in sessions]
    enriched = [_lock_waiter(s, lock, settings.application_name) for s in enriched]
    return Snapshot(
        taken_at=taken_at, database=database, server_version=int(conn.server_version),
        pgshift_installed=installed, migration_lock=lock, backfills_readable=readable,
        sessions=tuple(_relevant(enriched)), backfills=tuple(backfills),
    )


def _lock_waiter(session: Session, lock: LockHolder | None, base: str) -> Session:
    """A runner's lock connection that holds no advisory lock polls for the migration lock
    (``pg_try_advisory_lock``, which never waits in ``pg_locks``): say so."""
    if session.application_name != f"{base} lock" or session.waiting_for is not None or any(
            held.locktype == "advisory" for held in session.holds) or (
            lock is not None and lock.pid == session.pid):
        return session
    target = "the migration lock" + (f" (held by pid {lock.pid})" if lock else "")
    return replace(session, waiting_for=LockRef("advisory", "ExclusiveLock", False, target))


def read_sessions(conn: Connection) -> list[Session]:
    with conn.cursor() as cur:
        cur.execute(_SESSIONS)
        rows = cur.fetchall()
    sessions = []
    for (pid, user, app, client, backend_type, state, wait_type, wait_event, query, xact_age,
         query_age, state_age, query_start, xact_start, backend_start, blocked_by) in rows:
        sessions.append(Session(
            pid=pid, user=user, application_name=app, client=client, backend_type=backend_type,
            state=state, wait_event_type=wait_type, wait_event=wait_event,
            query=private_query(query)[:2000],  # an ALTER ROLE ... PASSWORD stays private
            command=statement_kind(query) if state and state != "idle" else None,
            xact_age_s=xact_age, query_age_s=query_age, state_age_s=state_age,
            query_start=query_start, xact_start=xact_start, blocked_by=tuple(blocked_by or ()),
            backend_start=backend_start,
        ))
    return sessions


# A password literal the server's copy of the text cuts off (at track_activity_query_size):
# redact() finds no closing quote for it, and masks none of it.
_CUT_PASSWORD = re.compile(r"(\bpassword\s+)(?:'(?:[^']|'')*|\$(\w*)\$(?!.*\$\2\$).*)\Z",
                           re.I | re.S)


def private_query(query: str) -> str:
    """A session's query text with its passwords masked, a cut-off one included."""
    return _CUT_PASSWORD.sub(r"\1'***'", redact(query))


def _read_locks(conn: Connection) -> tuple[dict[int, list[LockRef]], dict[int, LockRef]]:
    from psycopg2 import sql

    waited = ("extract(epoch FROM now() - l.waitstart)::float8" if conn.server_version >= 140000
              else "NULL::float8")
    query = sql.SQL(_LOCKS).format(waited=sql.SQL(waited), first_oid=sql.Literal(FIRST_USER_OID),
                                   relation=sql.SQL(_RELATION))
    holds: dict[int, list[LockRef]] = {}
    waits: dict[int, LockRef] = {}
    with conn.cursor() as cur:
        cur.execute(query)
        for pid, locktype, mode, granted, target, wait_s in cur.fetchall():
            ref = LockRef(locktype, mode, granted, target, wait_s)
            if granted:
                holds.setdefault(pid, []).append(ref)
            else:
                waits.setdefault(pid, ref)
    return holds, waits


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


def _classify(session: Session, base: str) -> Session:
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


def _relevant(sessions: list[Session]) -> list[Session]:
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
