"""Batched backfills: an UPDATE run as many short transactions, adaptive, throttled, resumable.

Each batch is ``BEGIN; SET LOCAL lock_timeout …; UPDATE … WHERE (predicate) AND <key range>;
<checkpoint>; COMMIT``: row locks are held for one batch only, and the checkpoint commits with
the rows it describes (see ``pgshift.backfill.progress``). A lock timeout or deadlock rolls the
batch back and retries it, smaller, after a backoff.

Sizing: with ``batch-size=auto`` the next batch's size is the measured rate times the target
duration (default 100 ms), at most doubled or halved per step, between ``min_batch`` and
``max_batch``. Between batches: a pause; a wait while a standby's replay lag is above
``max_lag``; a short wait while sessions queue for a lock on the table (the next batch would
queue behind them); a ``VACUUM`` every few batches, since every updated row leaves a dead one.
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

from pgshift.backfill import progress
from pgshift.backfill.options import BackfillOptions
from pgshift.backfill.statement import BackfillStatement
from pgshift.backfill.walk import TableInfo, Walk, choose_walk, refresh_blocks, table_info
from pgshift.errors import LockTimeoutError, MigrationFailedError

if TYPE_CHECKING:
    from psycopg2.extensions import connection as Connection

_PRESSURE = """
SELECT coalesce((SELECT max(extract(epoch FROM replay_lag)) FROM pg_stat_replication), 0),
       (SELECT count(*) FROM pg_locks WHERE relation = %(oid)s AND NOT granted)
"""
_RETRYABLE = (psycopg2.errors.LockNotAvailable, psycopg2.errors.DeadlockDetected)
LOCK_WAIT_LIMIT = 2.0  # seconds we hold back while others queue for a lock on the table


@dataclass(frozen=True)
class Batch:
    """One committed batch, with the running totals after it."""

    number: int
    size: int
    keys: int
    rows: int
    seconds: float
    keys_done: int
    rows_done: int
    keys_total: int | None
    rows_per_second: float | None
    keys_per_second: float | None

    @property
    def eta_seconds(self) -> float | None:
        if not self.keys_total or not self.keys_per_second:
            return None
        return max(0, self.keys_total - self.keys_done) / self.keys_per_second


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


@dataclass(frozen=True)
class Limits:
    """Per-batch lock_timeout, statement_timeout and retries (from Settings or the file)."""

    lock_timeout: float = 0.5
    statement_timeout: float = 60.0
    retries: int = 10


class _Rate:
    """An exponentially weighted rate, per second."""

    def __init__(self) -> None:
        self.value: float | None = None

    def add(self, amount: float, seconds: float) -> float | None:
        if seconds <= 0:
            return self.value
        sample = amount / seconds
        self.value = sample if self.value is None else 0.3 * sample + 0.7 * self.value
        return self.value


def next_size(options: BackfillOptions, size: int, keys: int, seconds: float) -> int:
    """The adaptive step: aim at ``options.target``, changing by at most 2x per batch."""
    if not options.adaptive:
        return size
    wanted = size * 2 if seconds <= 0 or keys <= 0 else int(keys / seconds * options.target)
    wanted = max(size // 2, min(size * 2, wanted))
    return max(options.min_batch, min(options.max_batch, wanted))


class _Job:
    """The state of one run: where it is, its rates, what it has to report."""

    def __init__(self, conn: Connection, schema: str, id: str, statement: BackfillStatement,
                 options: BackfillOptions, limits: Limits) -> None:
        self.conn, self.schema, self.id = conn, schema, id
        self.statement, self.options, self.limits = statement, options, limits
        self.rows_rate, self.keys_rate = _Rate(), _Rate()
        self.size = options.batch_size or options.first_batch
        self.vacuums = 0
        self.dead_since_vacuum = 0
        self.last: list[str] | None = None  # the last key done; None: from the start
        self.keys_done = self.rows_done = self.batches = 0
        self.batches_at_vacuum = 0
        self.last_seconds = 0.0

    def account(self, keys: int, rows: int, wall: float) -> None:
        """Add a committed batch to the totals and rates."""
        self.keys_done += keys
        self.rows_done += rows
        self.batches += 1
        self.rows_rate.add(rows, wall)
        self.keys_rate.add(keys, wall)
        self.dead_since_vacuum += rows

    def report(self, keys: int, rows: int, keys_total: int | None) -> Batch:
        """The last batch, with the totals after it."""
        return Batch(self.batches, self.size, keys, rows, self.last_seconds, self.keys_done,
                     self.rows_done, keys_total, self.rows_rate.value, self.keys_rate.value)

    def run_batch(self, cur: Any, walk: Walk, last: list[str] | None
                  ) -> tuple[list[str] | None, int, int, float]:
        """One batch in its own transaction; returns (new last key, keys, rows, seconds)."""
        upper = walk.next_bound(cur, last, self.size)
        # The unused CTE names the batch in pg_stat_statements, which (PostgreSQL 18) drops a
        # leading comment: phases.check_usage must not count our batches as the app's queries.
        update = sql.SQL("/* pgshift:backfill */ WITH pgshift_backfill AS (SELECT 1) {head} "
                         "WHERE ({predicate}) AND {range}").format(
            head=sql.SQL(self.statement.head),
            predicate=sql.SQL(self.statement.predicate or "true"),
            range=walk.range_sql(last, upper))
        final = upper is None
        keys = self.size if not final else max(0, (walk.keys_total or 0) - self.keys_done)
        new_last = upper if not final else (last or [])
        started = time.perf_counter()
        cur.execute(f"BEGIN; SET LOCAL lock_timeout = {_ms(self.limits.lock_timeout)}; "
                    f"SET LOCAL statement_timeout = {_ms(self.limits.statement_timeout)}")
        try:
            cur.execute(update)
            rows = cur.rowcount
            cur.execute(progress.checkpoint_sql(
                self.schema, self.id, last_key=new_last, keys=keys, rows=rows,
                batch_size=self.size, rows_per_second=self.rows_rate.value,
                keys_per_second=self.keys_rate.value) + sql.SQL("; COMMIT"))
        except BaseException:
            _rollback(self.conn)
            raise
        return (None if final else upper), keys, rows, time.perf_counter() - started


def run_backfill(
    conn: Connection,
    schema: str,
    statement: BackfillStatement,
    options: BackfillOptions,
    *,
    id: str,
    migration: str | None = None,
    resume: bool = True,
    limits: Limits | None = None,
    on_batch: Callable[[Batch], None] | None = None,
    on_note: Callable[[str], None] | None = None,
) -> BackfillResult:
    """Run ``statement`` in batches on ``conn`` (autocommit), checkpointing under ``id``.

    ``resume``: continue an unfinished run of the same statement from its checkpoint.
    Raises LockTimeoutError when a batch keeps timing out on locks, MigrationFailedError on
    any other database error (the batch is rolled back; the checkpoint stays).
    """
    conn.autocommit = True
    note = on_note or (lambda _: None)
    job = _Job(conn, schema, id, statement, options, limits or Limits())
    with conn.cursor() as cur:
        info = table_info(cur, statement, own_schema=schema)
        walk = choose_walk(cur, statement, info)
        refresh_blocks(cur, walk, info)
        resumed = _start(cur, job, walk, migration=migration, resume=resume, note=note)
        started = time.perf_counter()
        try:
            _run_batches(cur, job, info, walk, note, on_batch)
            progress.finish(cur, schema, id, status="done")
        except (MigrationFailedError, psycopg2.Error) as exc:
            _record_failure(conn, schema, id, exc)
            raise
    return BackfillResult(id, statement.qualified, job.rows_done, job.keys_done, job.batches,
                          time.perf_counter() - started, resumed, job.vacuums,
                          tuple(walk.key_columns))


def _start(cur: Any, job: _Job, walk: Walk, *, migration: str | None, resume: bool,
           note: Callable[[str], None]) -> bool:
    """Open the checkpoint row, or go on from an unfinished run's; True when resuming."""
    statement = job.statement
    job.last, job.keys_done, job.rows_done, job.batches = progress.begin(
        cur, job.schema, id=job.id, migration=migration, table_name=statement.qualified,
        statement=statement.text, key_columns=walk.key_columns, keys_total=walk.keys_total,
        resume=resume)
    resumed = job.batches > 0
    if resumed:
        note(f"resuming backfill of {statement.qualified} after {job.batches} batch(es), "
             f"{job.rows_done} row(s) done")
    if walk.key_columns == ["ctid"]:
        note(f"{statement.qualified} has no primary key: walking ctid ranges")
    return resumed


def _run_batches(cur: Any, job: _Job, info: TableInfo, walk: Walk, note: Callable[[str], None],
                 on_batch: Callable[[Batch], None] | None) -> None:
    """Batches until the walk passes the last key: throttle, batch, resize, vacuum, pause."""
    while True:
        _throttle(cur, job, info, note)
        tick = time.perf_counter()
        new_last, keys, rows = _batch_with_retries(cur, job, walk, job.last, note)
        job.account(keys, rows, time.perf_counter() - tick)
        if on_batch is not None:
            on_batch(job.report(keys, rows, walk.keys_total))
        job.size = next_size(job.options, job.size, keys, job.last_seconds)
        if new_last is None:
            return
        job.last = new_last
        _maybe_vacuum(cur, job, info, walk, note)
        if job.options.pause:
            time.sleep(job.options.pause)


def _batch_with_retries(cur: Any, job: _Job, walk: Walk, last: list[str] | None,
                        note: Callable[[str], None]) -> tuple[list[str] | None, int, int]:
    attempt = 0
    while True:
        attempt += 1
        try:
            new_last, keys, rows, seconds = job.run_batch(cur, walk, last)
            job.last_seconds = seconds
            return new_last, keys, rows
        except _RETRYABLE as exc:
            if attempt > job.limits.retries:
                raise LockTimeoutError(
                    f"backfill of {job.statement.qualified}: a batch could not get its locks "
                    f"after {attempt} attempt(s) (lock_timeout {job.limits.lock_timeout:g}s)",
                    hint="a long transaction holds rows or the table: find it with "
                         "'pgshift ps'; the backfill resumes from its checkpoint on the next run",
                    sqlstate=exc.pgcode, statement=job.statement.text) from exc
            job.size = max(job.options.min_batch, job.size // 2)
            wait = random.uniform(0.5, 1.0) * min(10.0, 0.2 * 2 ** (attempt - 1))
            note(f"batch hit a lock ({type(exc).__name__}); retry {attempt} in {wait:.1f}s "
                 f"with {job.size} keys")
            time.sleep(wait)
        except psycopg2.errors.QueryCanceled as exc:
            if "user request" in str(exc):  # one SQLSTATE for both: only the text tells
                raise MigrationFailedError(
                    f"backfill of {job.statement.qualified}: cancelled by an operator "
                    "(pg_cancel_backend or 'pgshift kill')", sqlstate=exc.pgcode,
                    statement=job.statement.text,
                    hint="finished batches stay committed: run it again to resume from its "
                         "checkpoint") from exc
            raise MigrationFailedError(
                f"backfill of {job.statement.qualified}: a batch exceeded statement_timeout "
                f"{job.limits.statement_timeout:g}s", sqlstate=exc.pgcode,
                statement=job.statement.text,
                hint="lower batch-size or target; the backfill resumes from its checkpoint") \
                from exc
        except psycopg2.Error as exc:
            message = (exc.diag.message_primary or str(exc)).strip().splitlines()[0]
            raise MigrationFailedError(
                f"backfill of {job.statement.qualified} failed: {message} [{exc.pgcode}]",
                sqlstate=exc.pgcode, statement=job.statement.text,
                hint="fix the UPDATE; finished batches stay committed and are not redone") \
                from exc


def _throttle(cur: Any, job: _Job, info: TableInfo, note: Callable[[str], None]) -> None:
    """Hold back while a standby lags or others queue for a lock on the table."""
    waited = 0.0
    told_lag = told_locks = False
    while True:
        cur.execute(_PRESSURE, {"oid": info.oid})
        lag, waiters = cur.fetchone()
        if lag is not None and float(lag) > job.options.max_lag:
            if not told_lag:
                note(f"replication lag {float(lag):.1f}s > {job.options.max_lag:g}s: waiting")
                told_lag = True
            time.sleep(1.0)
            continue
        if waiters and waited < LOCK_WAIT_LIMIT:
            if not told_locks:
                note(f"{waiters} session(s) wait for a lock on {job.statement.qualified}: "
                     "holding back")
                told_locks = True
                job.size = max(job.options.min_batch, job.size // 2)
            time.sleep(0.1)
            waited += 0.1
            continue
        return


def _maybe_vacuum(cur: Any, job: _Job, info: TableInfo, walk: Walk,
                  note: Callable[[str], None]) -> None:
    options = job.options
    if not options.vacuum:
        return
    if options.vacuum_every is not None:
        due = job.dead_since_vacuum > 0 and (
            job.batches - job.batches_at_vacuum >= options.vacuum_every)
    else:
        due = job.dead_since_vacuum >= max(10_000, int(0.2 * (walk.keys_total or 0)))
    if not due:
        return
    started = time.perf_counter()
    try:
        cur.execute(sql.SQL("VACUUM (SKIP_LOCKED) {}").format(info.ident))
    except psycopg2.errors.QueryCanceled:
        return
    job.vacuums += 1
    job.dead_since_vacuum = 0
    job.batches_at_vacuum = job.batches
    note(f"vacuumed {job.statement.qualified} in {time.perf_counter() - started:.1f}s")


def _record_failure(conn: Connection, schema: str, id: str, exc: BaseException) -> None:
    if conn.closed:
        return
    try:
        _rollback(conn)
        with conn.cursor() as cur:
            progress.finish(cur, schema, id, status="failed", error=str(exc)[:2000])
    except psycopg2.Error:
        pass


def _rollback(conn: Connection) -> None:
    if conn.closed:
        return
    try:
        with conn.cursor() as cur:
            cur.execute("ROLLBACK")
    except psycopg2.Error:
        pass


def _ms(seconds: float) -> int:
    return max(1, int(seconds * 1000))
