"""Batched backfills: an UPDATE run as many short transactions, adaptive, throttled, resumable.

Each batch is ``BEGIN; SET LOCAL lock_timeout …; UPDATE … WHERE (predicate) AND <key range>;
<checkpoint>; COMMIT``: row locks are held for one batch only, and the checkpoint commits with
the rows it describes (see ``pgshift.backfill.progress``); when that row is gone or another
run's, the batch is rolled back and the run stops (see ``pgshift.backfill.job``). A lock
timeout or deadlock rolls the batch back and retries it, smaller, after a backoff; a batch
that exceeds ``statement_timeout`` is retried at half its size (no backoff), and fails the run
only when the smallest batch still times out.

Before the first batch the UPDATE is EXPLAINed: a column, type or table the server refuses is
bad input (exit 2), said before any batch or checkpoint. The last batch marks the run ``done``
in its own transaction; a run resumed after that (a migration killed before it recorded the
statement done) has nothing left to do, unless it is asked to run ``again`` (a one-off
backfill's ``--again``): a finished run then starts over from the first key. ``again`` is
refused (InputError) while a run of the statement stopped part-way: that one resumes. A run
that stopped part-way walking another key than the table has now (its primary key changed, or
it gained or lost one, or its key's type or collation changed) or another table (dropped and
recreated, or the name now finds another) does not resume: refused (InputError), unless the
old walk was by ctid, which makes starting over safe (see ``progress.begin``).

``prepare_backfill`` does every check (the table, its walk, the EXPLAIN) without writing
anything, so a caller can refuse bad input before it installs pgshift's tables.

Sizing: with ``batch-size=auto`` the next batch's size is the measured rate times the target
duration (default 100 ms), at most doubled or halved per step, between ``min_batch`` and
``max_batch`` (never above ``max_batch``, the first batch included). Sizes count rows; a ctid
walk turns them into blocks (see ``pgshift.backfill.walk``). A fixed ``batch-size`` is the
largest a batch gets: a retry halves it, down to one key. Rates (and so the ETA) count the
whole time from batch to batch: pauses, throttling and VACUUM included.

Between batches (see ``pgshift.backfill.pacing``): a pause; a wait while a standby's replay
lag is above ``max_lag``; a short wait while sessions queue for a lock on the table (the next
batch would queue behind them); a ``VACUUM`` every few batches, since every updated row leaves
a dead one.
"""

from __future__ import annotations

import random
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import psycopg2
import psycopg2.errors
from psycopg2 import sql

from pgshift.backfill import pacing, progress
from pgshift.backfill.failure import (
    by_operator,
    connection_lost,
    describe,
    first_line,
    ms,
    record_failure,
    rollback,
)
from pgshift.backfill.job import Batch, Job, next_size
from pgshift.backfill.options import BackfillOptions
from pgshift.backfill.statement import BackfillStatement, batch_sql
from pgshift.backfill.walk import CtidWalk, TableInfo, Walk, choose_walk, table_info
from pgshift.errors import InputError, LockTimeoutError, MigrationFailedError, PgshiftError

if TYPE_CHECKING:
    from psycopg2.extensions import connection as Connection

_RETRYABLE = (psycopg2.errors.LockNotAvailable, psycopg2.errors.DeadlockDetected)


@dataclass(frozen=True)
class BackfillResult:
    """A finished backfill."""

    id: str
    table: str
    rows: int
    keys: int
    batches: int
    seconds: float
    resumed: bool
    vacuums: int
    key_columns: tuple[str, ...]
    done_already: bool = False  # a run of the same statement had finished: nothing was done
    again: bool = False  # a finished run of the same statement was started over (``again``)


@dataclass(frozen=True)
class Limits:
    """Per-batch lock_timeout, statement_timeout and retries (from Settings or the file)."""

    lock_timeout: float = 0.5
    statement_timeout: float = 60.0
    retries: int = 10


@dataclass(frozen=True)
class Prepared:
    """A backfill checked and ready to run: its table, how it is walked, under which limits."""

    limits: Limits
    info: TableInfo
    walk: Walk


def prepare_backfill(conn: Connection, schema: str, statement: BackfillStatement,
                     limits: Limits | None = None) -> Prepared:
    """Check ``statement`` against the database, writing nothing: InputError when its table
    cannot be walked (see ``pgshift.backfill.walk``) or the server refuses its UPDATE."""
    conn.autocommit = True
    limits = limits or Limits()
    with conn.cursor() as cur:
        info = table_info(cur, statement, own_schema=schema)
        walk = choose_walk(cur, statement, info)
        _check_runs(cur, conn, statement, walk, limits)
    return Prepared(limits, info, walk)


def run_backfill(
    conn: Connection,
    schema: str,
    statement: BackfillStatement,
    options: BackfillOptions,
    *,
    id: str,
    migration: str | None = None,
    resume: bool = True,
    again: bool = False,
    limits: Limits | None = None,
    prepared: Prepared | None = None,
    on_batch: Callable[[Batch], None] | None = None,
    on_note: Callable[[str], None] | None = None,
) -> BackfillResult:
    """Run ``statement`` in batches on ``conn`` (autocommit), checkpointing under ``id``.

    ``resume``: continue an unfinished run of the same statement from its checkpoint.
    ``again``: start a finished run of it over (InputError while one stopped part-way).
    ``prepared``: what ``prepare_backfill`` returned for this statement (else it is called).
    Raises InputError when an unfinished run's checkpoint was taken under another key (nothing
    written), LockTimeoutError when a batch keeps timing out on locks, MigrationFailedError on
    any other database error (the batch is rolled back; the checkpoint stays) and when the
    checkpoint row was deleted or taken over by another run (the batch is rolled back).
    """
    prepared = prepared or prepare_backfill(conn, schema, statement, limits)
    conn.autocommit = True
    note = on_note or (lambda _: None)
    job = Job(conn, schema, id, statement, options, prepared.limits)
    info, walk = prepared.info, prepared.walk
    with conn.cursor() as cur:
        if conn.server_version >= 140000:  # the pauses between batches idle the session
            cur.execute("SET idle_session_timeout = 0")
        job.size_for(walk)
        resumed, done = _start(cur, job, walk, migration=migration, resume=resume, again=again,
                               note=note)
        started = time.perf_counter()
        try:
            if not done:
                _run_batches(cur, job, info, walk, note, on_batch)
        except (PgshiftError, psycopg2.Error) as exc:
            record_failure(conn, schema, id, exc)
            raise
    return BackfillResult(id, statement.qualified, job.rows_done, job.keys_done, job.batches,
                          time.perf_counter() - started, resumed, job.vacuums,
                          tuple(walk.key_columns), done_already=done, again=job.again)


def _check_runs(cur: Any, conn: Connection, statement: BackfillStatement, walk: Walk,
                limits: Limits) -> None:
    """EXPLAIN a batch's UPDATE (nothing runs): what the server refuses in it (a column, a
    type, a privilege) is bad input, said before any batch or checkpoint. A lock the EXPLAIN
    cannot get in time is left to the batches, which wait and retry."""
    explain = sql.SQL("EXPLAIN ") + batch_sql(statement, walk.range_sql(None, None))
    cur.execute(f"BEGIN; SET LOCAL lock_timeout = {ms(limits.lock_timeout)}; "
                f"SET LOCAL statement_timeout = {ms(limits.statement_timeout)}")
    try:
        cur.execute(explain)
    except (*_RETRYABLE, psycopg2.errors.QueryCanceled):
        pass
    except psycopg2.Error as exc:
        if connection_lost(exc):
            raise MigrationFailedError(
                f"backfill of {statement.qualified}: the connection was lost: "
                f"{first_line(exc)}", sqlstate=exc.pgcode, statement=statement.text,
                hint="nothing was updated: run the same backfill again") from exc
        raise InputError(
            f"the backfill UPDATE of {statement.qualified} does not run: "
            f"{first_line(exc)} [{exc.pgcode}]",
            hint="fix the SET and WHERE; nothing was updated") from None
    finally:
        rollback(conn)


def _start(cur: Any, job: Job, walk: Walk, *, migration: str | None, resume: bool,
           again: bool, note: Callable[[str], None]) -> tuple[bool, bool]:
    """Open the checkpoint row, or go on from an earlier run's; returns (resuming, done): done
    when that run had finished, leaving nothing to do (unless ``again``: it starts over)."""
    statement = job.statement
    checkpoint = progress.begin(
        cur, job.schema, id=job.id, migration=migration, table_name=statement.qualified,
        statement=statement.text, key_columns=walk.key_columns, walk=walk.identity,
        keys_total=walk.keys_total,
        resume=resume, again=again)
    job.last, job.keys_done = checkpoint.last_key, checkpoint.keys_done
    job.rows_done, job.batches = checkpoint.rows_done, checkpoint.batches
    if checkpoint.done:
        if migration is not None:  # a one-off's result says it (done_already), once
            note(f"this backfill of {statement.qualified} was done already ({job.rows_done} "
                 f"row(s) in {job.batches} batch(es)): nothing to do; a changed statement "
                 "runs anew")
        return True, True
    job.again = checkpoint.started_over is not None
    if checkpoint.note is not None:  # it starts over from a checkpoint under another key
        note(checkpoint.note)
    elif checkpoint.started_over is not None:
        rows, batches = checkpoint.started_over
        note(f"starting the backfill of {statement.qualified} over (--again): its last run "
             f"was done, {rows} row(s) in {batches} batch(es)")
    resumed = job.batches > 0
    if resumed:
        note(f"resuming backfill of {statement.qualified} after {job.batches} batch(es), "
             f"{job.rows_done} row(s) done")
    if isinstance(walk, CtidWalk):
        walk.resume_at(job.last, job.keys_done)
        note(f"{statement.qualified} has no primary key: walking ctid ranges")
    return resumed, False


def _run_batches(cur: Any, job: Job, info: TableInfo, walk: Walk, note: Callable[[str], None],
                 on_batch: Callable[[Batch], None] | None) -> None:
    """Batches until the walk passes the last key: throttle, batch, resize, vacuum, pause."""
    job.cycle_started = time.perf_counter() - job.options.pause  # each cycle has one pause
    while True:
        pacing.hold_back(cur, job, info, note)
        new_last, keys, rows, again = _batch_with_retries(cur, job, walk, job.last, note)
        job.account(keys, rows)
        if on_batch is not None:
            on_batch(job.report(keys, rows, walk.keys_total))
        job.size = next_size(job.options, job.size, keys, job.last_seconds, floor=job.floor,
                             ceiling=job.ceiling)
        if new_last is None and not again:
            return
        if again:
            note(f"walking {job.statement.qualified} again: a row updated meanwhile may have "
                 f"moved into a block already walked ({job.pass_rows} row(s) in that pass)")
            walk.restart(cur)
            job.pass_rows = 0
        job.last = new_last
        pacing.vacuum_if_due(cur, job, info, walk, note)
        if job.options.pause:
            time.sleep(job.options.pause)


def _batch_with_retries(cur: Any, job: Job, walk: Walk, last: list[str] | None,
                        note: Callable[[str], None]) -> tuple[list[str] | None, int, int, bool]:
    attempt = 0
    while True:
        attempt += 1
        try:
            new_last, keys, rows, seconds, again = job.run_batch(cur, walk, last)
            job.last_seconds = seconds
            return new_last, keys, rows, again
        except psycopg2.errors.QueryCanceled as exc:
            if by_operator(exc) or job.size <= job.floor:
                raise describe(exc, job.statement, job.limits, job.size) from exc
            job.smaller()
            note(f"batch exceeded statement_timeout {job.limits.statement_timeout:g}s; "
                 f"retrying it with {job.size} keys")
        except _RETRYABLE as exc:
            if attempt > job.limits.retries:
                raise LockTimeoutError(
                    f"backfill of {job.statement.qualified}: a batch could not get its locks "
                    f"after {attempt} attempt(s) (lock_timeout {job.limits.lock_timeout:g}s)",
                    hint="a long transaction holds rows or the table: find it with "
                         "'pgshift ps'; the backfill resumes from its checkpoint on the next run",
                    sqlstate=exc.pgcode, statement=job.statement.text) from exc
            job.smaller()
            wait = random.uniform(0.5, 1.0) * min(10.0, 0.2 * 2 ** (attempt - 1))
            note(f"batch hit a lock ({type(exc).__name__}); retry {attempt} in {wait:.1f}s "
                 f"with {job.size} keys")
            time.sleep(wait)
        except psycopg2.Error as exc:
            raise describe(exc, job.statement, job.limits, job.size) from exc
