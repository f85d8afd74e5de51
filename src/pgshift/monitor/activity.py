"""What is migrating now: pgshift's sessions, other DDL, their locks, blockers and progress.

One ``snapshot()`` reads ``pg_stat_activity``, ``pg_locks`` (with ``pg_blocking_pids`` for the
sessions waiting on a lock) and the progress views in a few queries, then keeps the sessions
that matter: pgshift's own (by ``application_name``: the runner tags itself
``pgshift up V003__x.sql`` while a migration runs, its lock connection is ``pgshift lock``),
sessions running DDL (by command, see ``ddl``), sessions with reported progress, and every
session in a blocking chain with one of those (see ``roles``). Reads only; works where pgshift
is not installed. What it returns, a Snapshot of Sessions, is in ``sessions``.
"""

from __future__ import annotations

import re
from dataclasses import replace
from typing import TYPE_CHECKING

from pgshift.db import redact
from pgshift.monitor import prepared
from pgshift.monitor.ddl import statement_kind
from pgshift.monitor.progress import read_backfills, read_progress
from pgshift.monitor.roles import classify, lock_waiter, relevant
from pgshift.monitor.sessions import LockRef, Session, Snapshot

if TYPE_CHECKING:
    from psycopg2.extensions import connection as Connection

    from pgshift.config import Settings

FIRST_USER_OID = 16384


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
    enriched = [classify(replace(s, holds=tuple(holds.get(s.pid, ())),
                                 waiting_for=waits.get(s.pid), progress=progress.get(s.pid)),
                         settings.application_name) for s in sessions]
    enriched = [lock_waiter(s, lock, settings.application_name) for s in enriched]
    return Snapshot(
        taken_at=taken_at, database=database, server_version=int(conn.server_version),
        pgshift_installed=installed, migration_lock=lock, backfills_readable=readable,
        sessions=tuple(relevant(enriched)), backfills=tuple(backfills),
    )


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
