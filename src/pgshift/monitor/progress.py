"""Progress where PostgreSQL reports it, and pgshift's own batched backfills.

Index builds (``pg_stat_progress_create_index``), ``VACUUM`` (``pg_stat_progress_vacuum``) and
``CLUSTER``/``VACUUM FULL`` (``pg_stat_progress_cluster``) report a phase and counters; the
percentage uses the counter of the current phase (blocks, then tuples). While
``CREATE INDEX CONCURRENTLY`` waits for older transactions it reports lockers done and the pid
it waits for: that pid is usually what holds the build up.

A role may read another role's progress only with ``pg_read_all_stats``: without it the row
has the pid and nothing else (command, relation, phase and counters all NULL).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from psycopg2.extensions import connection as Connection

    from pgshift.backfill.progress import BackfillProgress


@dataclass(frozen=True)
class Progress:
    """One running index build, vacuum or cluster, as PostgreSQL reports it."""

    pid: int
    command: str
    relation: str | None
    phase: str
    done: int | None = None
    total: int | None = None
    unit: str | None = None
    index: str | None = None
    waiting_for_pid: int | None = None

    @property
    def percent(self) -> float | None:
        if not self.total or self.done is None:
            return None
        return min(100.0, 100.0 * self.done / self.total)


_CURRENT_DB = "datid = (SELECT oid FROM pg_database WHERE datname = current_database())"
_INDEX = f"""
SELECT pid, command, relid::regclass::text, phase, lockers_total, lockers_done,
       nullif(current_locker_pid, 0), blocks_total, blocks_done, tuples_total, tuples_done,
       nullif(index_relid, 0)::regclass::text
FROM pg_stat_progress_create_index WHERE {_CURRENT_DB}
"""
_VACUUM = f"""
SELECT pid, 'VACUUM', relid::regclass::text, phase, heap_blks_total, heap_blks_scanned,
       heap_blks_vacuumed
FROM pg_stat_progress_vacuum WHERE {_CURRENT_DB}
"""
_CLUSTER = f"""
SELECT pid, command, relid::regclass::text, phase, heap_blks_total, heap_blks_scanned,
       heap_tuples_scanned, heap_tuples_written
FROM pg_stat_progress_cluster WHERE {_CURRENT_DB}
"""


def read_progress(conn: Connection) -> list[Progress]:
    """Every index build, vacuum and cluster running on the current database."""
    found: list[Progress] = []
    with conn.cursor() as cur:
        cur.execute(_INDEX)
        found += [_index_progress(row) for row in cur.fetchall()]
        cur.execute(_VACUUM)
        found += [_vacuum_progress(row) for row in cur.fetchall()]
        cur.execute(_CLUSTER)
        found += [_cluster_progress(row) for row in cur.fetchall()]
    return found


def read_progress_of(conn: Connection, pid: int) -> list[Progress]:
    """What session ``pid`` reports: its index build, vacuum or cluster, if it runs one."""
    return [p for p in read_progress(conn) if p.pid == pid]


HIDDEN = "hidden"  # the phase of another role's command, which this role may not look into


def _index_progress(row: tuple) -> Progress:
    (pid, command, relation, phase, lockers_total, lockers_done, locker, blocks_total,
     blocks_done, tuples_total, tuples_done, index) = row
    base: dict[str, Any] = {"pid": pid, "command": command or "index build",
                            "relation": relation, "phase": phase or HIDDEN, "index": index,
                            "waiting_for_pid": locker}
    if phase is None:
        return Progress(**base)
    if phase.startswith("waiting") and lockers_total:
        return Progress(**base, done=lockers_done, total=lockers_total, unit="lockers")
    if blocks_total:
        return Progress(**base, done=blocks_done, total=blocks_total, unit="blocks")
    if tuples_total:
        return Progress(**base, done=tuples_done, total=tuples_total, unit="tuples")
    return Progress(**base)


def _vacuum_progress(row: tuple) -> Progress:
    pid, command, relation, phase, total, scanned, vacuumed = row
    done = vacuumed if phase == "vacuuming heap" else scanned
    return Progress(pid, command, relation, phase or HIDDEN, done=done, total=total or None,
                    unit="blocks")


def _cluster_progress(row: tuple) -> Progress:
    pid, command, relation, phase, blocks_total, blocks_scanned, scanned, written = row
    command, phase = command or "CLUSTER or VACUUM FULL", phase or HIDDEN
    if blocks_total:
        return Progress(pid, command, relation, phase, done=blocks_scanned, total=blocks_total,
                        unit="blocks")
    return Progress(pid, command, relation, phase, done=written or scanned, unit="tuples")


# -- backfills ------------------------------------------------------------------------------------


def read_backfills(conn: Connection, schema: str) -> list[BackfillProgress]:
    """pgshift's batched backfills (running, interrupted, failed, or done within the hour).

    An empty list where pgshift or its backfill table is not installed.
    """
    try:
        from pgshift.backfill.progress import read_progress as read_backfill_progress
    except ImportError:  # a build without backfills
        return []
    return read_backfill_progress(conn, schema)
