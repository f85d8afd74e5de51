"""The run log: one row per run that changed the database, for ``pgshift log``.

The history says what is applied now: a migration rolled back leaves no row there, and a
failed attempt's row is overwritten by the next one. The run log keeps every run that took the
lock: who ran it (role and machine), which command, when, how it ended, the migrations it
applied, rolled back or recorded, and its error. Table ``pgshift.runs`` (schema version 3):

=============== ==============================================================================
id              the run's number, in the order runs started
command         up, down, baseline, repair or "adopt --from TOOL" (a redo is a down, then an
                up); "up --script"
                and "down --script" for a psql script's run (``pgshift.script``)
status          running, then done or failed; a run killed meanwhile stays running, and
                ``log`` shows it interrupted once its session (``pid``) is gone
run_by          the database role; ``machine``: the host pgshift ran on (a script's client
                address)
pid             the backend of the run's connection
migrations      the files the run applied (up, baseline), rolled back (down) or repaired,
                in order; a failed run lists those it finished before the failure; ``keys``:
                their history keys (``log --migration V`` looks for one)
error           a failed run's error, one line, passwords masked
=============== ==============================================================================

Rows are written on the run's own connection, outside the migrations' transactions: two short
statements per run, whatever its size.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING, Any

from psycopg2 import sql

from pgshift.state.history import key_of, table

if TYPE_CHECKING:
    from psycopg2.extensions import connection as Connection

    from pgshift.migrations.model import Migration
    from pgshift.runner import EventHandler


@dataclass(frozen=True)
class Run:
    """One row of the run log; ``status`` is ``interrupted`` for a run whose session ended
    before it did."""

    id: int
    command: str
    status: str
    run_by: str
    machine: str | None
    started_at: datetime
    finished_at: datetime | None
    migrations: list[str]
    error: str | None


class RunRecorder:
    """The run being recorded: the migrations it has finished so far. (A plain class: this
    module is on every run's path, and a dataclass costs start-up time to define.)"""

    def __init__(self) -> None:
        self.migrations: list[str] = []
        self.keys: list[str] = []

    def done(self, migration: Migration) -> None:
        self.migrations.append(migration.name)
        self.keys.append(key_of(migration))

    def done_by_key(self, name: str, key: str) -> None:
        """A migration known by its history row (``repair``: its file may be gone)."""
        self.migrations.append(name)
        self.keys.append(key)

    def watching(self, on_event: EventHandler | None) -> EventHandler:
        """``on_event``, noting each migration the runner finishes."""

        def handler(kind: str, migration: Migration, info: dict[str, Any]) -> None:
            if kind == "done":
                self.done(migration)
            if on_event is not None:
                on_event(kind, migration, info)

        return handler


@contextmanager
def recording(conn: Connection, schema: str, command: str) -> Iterator[RunRecorder]:
    """Record the run of ``command`` (under pgshift's lock, its tables installed): a
    ``running`` row now, ``done`` or ``failed`` with what it did when the block ends."""
    from pgshift import __version__

    runs = table(schema, "runs")
    with _altered_by_hand(schema, "write"), conn.cursor() as cur:
        # Returning every column the run's end writes: a table altered by hand fails here,
        # before anything runs, not after.
        cur.execute(sql.SQL("INSERT INTO {} (command, machine, pgshift_version) "
                            "VALUES (%s, %s, %s) RETURNING id, status, finished_at, migrations, "
                            "keys, error").format(runs),
                    (command, _machine(), __version__))
        run_id = cur.fetchone()[0]
    if not conn.autocommit:
        conn.commit()
    recorder = RunRecorder()
    try:
        yield recorder
    except BaseException as exc:
        _finish(conn, runs, run_id, "failed", recorder, _error_line(exc, conn))
        raise
    _finish(conn, runs, run_id, "done", recorder, None)


def read_runs(conn: Connection, schema: str, limit: int, key: str | None = None) -> list[Run]:
    """The last ``limit`` runs (that ran the migration of history ``key``), newest first; none
    where pgshift never ran."""
    if limit < 0:  # PostgreSQL's error for it would read as a table altered by hand
        from pgshift.errors import InputError

        raise InputError(f"cannot list {limit} runs: the limit is 0 or more")
    limit = min(limit, 2**63 - 1)  # LIMIT takes a bigint
    with _altered_by_hand(schema, "read"), conn.cursor() as cur:
        cur.execute("SELECT to_regclass(%s) IS NOT NULL", (f'"{schema}".runs',))
        if not cur.fetchone()[0]:
            return []
        # A run that never finished wrote no list of migrations: for an up, those the history
        # recorded as applied while it ran (one runner at a time: before the next run began).
        cur.execute(sql.SQL(
            "SELECT id, command, CASE WHEN r.status = 'running' AND NOT EXISTS ("
            "  SELECT FROM pg_stat_activity a WHERE a.pid = r.pid "
            "  AND a.backend_start <= r.started_at) THEN 'interrupted' ELSE r.status END, "
            "run_by, machine, started_at, finished_at, "
            "CASE WHEN r.status = 'running' AND cardinality(r.migrations) = 0 "
            "     AND r.command LIKE 'up%%' THEN ARRAY("
            "  SELECT h.script FROM {history} h, CAST(h.applied_at AS timestamptz) AS at "
            "  WHERE h.status = 'applied' AND at >= r.started_at AND at < coalesce(("
            "    SELECT min(n.started_at) FROM {runs} n WHERE n.id > r.id), 'infinity') "
            "  ORDER BY at, h.key) ELSE r.migrations END, error "
            "FROM {runs} AS r WHERE %s IS NULL OR %s = ANY(keys) ORDER BY id DESC LIMIT %s"
        ).format(runs=table(schema, "runs"), history=table(schema)), (key, key, limit))
        return [Run(*row) for row in cur.fetchall()]


@contextmanager
def _altered_by_hand(schema: str, verb: str) -> Iterator[None]:
    """A DriftError for the run log's table altered by hand (a column dropped, retyped)."""
    import psycopg2.errors

    try:
        yield
    except psycopg2.errors.InsufficientPrivilege:
        raise  # the role's grants, not the table: the CLI says so
    except (psycopg2.ProgrammingError, psycopg2.DataError) as exc:
        from pgshift.errors import DriftError

        first = (str(exc).strip().splitlines() or [type(exc).__name__])[0]
        raise DriftError(f"cannot {verb} {schema}.runs: {first}",
                         hint="the table was altered by hand: drop it, and the next run that "
                              "changes the database makes it again") from None


def _finish(conn: Connection, runs: sql.Composed, run_id: int, status: str,
            recorder: RunRecorder, error: str | None) -> None:
    import psycopg2.extensions

    try:
        if not conn.autocommit and conn.status != psycopg2.extensions.STATUS_READY:
            conn.rollback()  # a failure inside a transaction: the row is written outside it
        with conn.cursor() as cur:
            cur.execute(sql.SQL("UPDATE {} SET status = %s, finished_at = clock_timestamp(), "
                                "migrations = %s, keys = %s, error = %s WHERE id = %s"
                                ).format(runs),
                        (status, recorder.migrations, recorder.keys, error, run_id))
        if not conn.autocommit:
            conn.commit()
    except psycopg2.Error:
        if status == "done":
            raise
        # The run's failure matters more than its row (the connection may be what failed):
        # the row stays 'running', and 'log' shows it interrupted once the session is gone.


def _error_line(exc: BaseException, conn: Connection) -> str:
    """The error's first line as the run log keeps it: no password, the connection's own
    included (a migration's error may quote it: ``SELECT 'secret'::int``)."""
    from pgshift.redaction import password_of, redact

    if isinstance(exc, KeyboardInterrupt):
        return "interrupted"
    text = str(exc).strip()
    return redact(text.splitlines()[0] if text else type(exc).__name__,
                  None if conn.closed else password_of(conn))


def _machine() -> str | None:
    try:
        return os.uname().nodename
    except AttributeError:  # Windows
        return os.environ.get("COMPUTERNAME")
