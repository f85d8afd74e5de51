"""One backfill run's state, and one batch of it: where the run is, its rates, its sizes.

A batch is ``BEGIN; SET LOCAL …; UPDATE …; <checkpoint>; COMMIT``. The checkpoint UPDATE is
guarded: it must find the run's own row (its ``pid``) at the batch count this run left it at.
When it finds none (the row was deleted: pgshift's tables cleaned by hand; or another run took
it over: ``--again`` or a second runner racing this one), the batch is rolled back and the run
stops (MigrationFailedError): a batch committed without its checkpoint would be updated again
by the next run, which starts from the first key, or would leave a checkpoint that lies.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from pgshift.backfill import progress
from pgshift.backfill.failure import ms, rollback
from pgshift.backfill.statement import batch_sql, matching_sql
from pgshift.backfill.walk import CtidWalk
from pgshift.errors import InputError, MigrationFailedError

if TYPE_CHECKING:
    from psycopg2.extensions import connection as Connection

    from pgshift.backfill.batched import Limits
    from pgshift.backfill.options import BackfillOptions
    from pgshift.backfill.statement import BackfillStatement
    from pgshift.backfill.walk import Walk


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


class Rate:
    """An exponentially weighted rate, per second."""

    def __init__(self) -> None:
        self.value: float | None = None

    def add(self, amount: float, seconds: float) -> float | None:
        if seconds <= 0:
            return self.value
        sample = amount / seconds
        self.value = sample if self.value is None else 0.3 * sample + 0.7 * self.value
        return self.value


def next_size(options: BackfillOptions, size: int, keys: int, seconds: float, *,
              floor: int | None = None, ceiling: int | None = None) -> int:
    """The adaptive step: aim at ``options.target``, changing by at most 2x per batch, between
    ``floor`` and ``ceiling`` (default: the options' min_batch and max_batch)."""
    if not options.adaptive:
        return size
    ceiling = options.max_batch if ceiling is None else ceiling
    floor = min(options.min_batch if floor is None else floor, ceiling)
    wanted = size * 2 if seconds <= 0 or keys <= 0 else int(keys / seconds * options.target)
    wanted = max(size // 2, min(size * 2, wanted))
    return max(floor, min(ceiling, wanted))


class Job:
    """The state of one run: where it is, its rates, what it has to report."""

    def __init__(self, conn: Connection, schema: str, id: str, statement: BackfillStatement,
                 options: BackfillOptions, limits: Limits) -> None:
        self.conn, self.schema, self.id = conn, schema, id
        self.statement, self.options, self.limits = statement, options, limits
        self.rows_rate, self.keys_rate = Rate(), Rate()
        self.size = self.floor = self.ceiling = 1
        self.vacuums = 0
        self.dead_since_vacuum = 0
        self.last: list[str] | None = None  # the last key done; None: from the start
        self.keys_done = self.rows_done = self.batches = 0
        self.pass_rows = 0  # rows updated in this pass over the table (ctid walks make more)
        self.batches_at_vacuum = 0
        self.told_hidden_lag = False  # said once that max-lag cannot apply (pacing)
        self.last_seconds = 0.0
        self.cycle_started = time.perf_counter()
        self.again = False  # a finished run started over

    def size_for(self, walk: Walk) -> None:
        """Batch sizes in the walk's keys: rows for a key walk, blocks for a ctid walk."""
        options = self.options
        if options.batch_size is not None:
            self.size = self.ceiling = walk.units(options.batch_size)
            self.floor = 1
            return
        self.ceiling = walk.units(options.max_batch)
        self.floor = min(walk.units(options.min_batch), self.ceiling)
        self.size = max(self.floor, min(self.ceiling, walk.units(options.first_batch)))

    def smaller(self) -> None:
        """Halve the next batch (a lock, a timeout, a queue), not below the floor."""
        self.size = max(self.floor, self.size // 2)

    def account(self, keys: int, rows: int) -> None:
        """Add a committed batch to the totals and rates (over the time since the last one)."""
        now = time.perf_counter()
        wall, self.cycle_started = now - self.cycle_started, now
        self.keys_done += keys
        self.rows_done += rows
        self.pass_rows += rows
        self.batches += 1
        self.rows_rate.add(rows, wall)
        self.keys_rate.add(keys, wall)
        self.dead_since_vacuum += rows

    def report(self, keys: int, rows: int, keys_total: int | None) -> Batch:
        """The last batch, with the totals after it."""
        return Batch(self.batches, self.size, keys, rows, self.last_seconds, self.keys_done,
                     self.rows_done, keys_total, self.rows_rate.value, self.keys_rate.value)

    def run_batch(self, cur: Any, walk: Walk, last: list[str] | None
                  ) -> tuple[list[str] | None, int, int, float, bool]:
        """One batch in its own transaction; returns (new last key, keys, rows, seconds,
        again). The new key is None after the last batch of a pass, whose checkpoint marks
        the run done, unless the walk goes round again (``again``: it then starts over)."""
        upper, keys = walk.next_batch(cur, last, self.size)
        by_ctid = isinstance(walk, CtidWalk)
        update = batch_sql(self.statement, walk.range_sql(last, upper), returning_ctid=by_ctid)
        started = time.perf_counter()
        cur.execute(f"BEGIN; SET LOCAL lock_timeout = {ms(self.limits.lock_timeout)}; "
                    f"SET LOCAL statement_timeout = {ms(self.limits.statement_timeout)}")
        try:
            cur.execute(update)
            rows = cur.rowcount
            if by_ctid:
                self.check_done(cur, [ctid for (ctid,) in cur.fetchall()])
            again = upper is None and walk.more(self.pass_rows + rows)
            cur.execute(progress.checkpoint_sql(
                self.schema, self.id, last_key=upper if upper is not None or again else last,
                keys=keys, rows=rows, batch_size=self.size, keys_total=walk.keys_total,
                rows_per_second=self.rows_rate.value, keys_per_second=self.keys_rate.value,
                done=upper is None and not again, batches=self.batches))
            if cur.rowcount != 1:  # the row is gone or another run's: nothing records this batch
                raise self.checkpoint_lost(cur, walk, last)
            cur.execute("COMMIT")
        except BaseException:
            rollback(self.conn)
            raise
        return upper, keys, rows, time.perf_counter() - started, again

    def checkpoint_lost(self, cur: Any, walk: Walk, last: list[str] | None
                        ) -> MigrationFailedError:
        """Why the batch's checkpoint found no row of this run (asked inside the batch's
        transaction, which the caller rolls back)."""
        what = (f"backfill of {self.statement.qualified}: batch {self.batches + 1} was rolled "
                f"back: its checkpoint (id '{self.id}' in {self.schema}.backfill)")
        done = (f"the {self.batches} batch(es) before it stay committed ({self.rows_done} "
                f"row(s), {_walked(walk, last)})")
        owner = progress.owner(cur, self.schema, self.id)
        if owner is None:
            return MigrationFailedError(
                f"{what} was deleted while the backfill ran", statement=self.statement.text,
                hint=f"{done}; a new run has no checkpoint and starts from the first key: "
                     "make its WHERE skip the rows done, unless updating them again is harmless")
        pid, batches = owner
        return MigrationFailedError(
            f"{what} was taken over by another run (backend pid {pid}, {batches} batch(es)) "
            "while this one ran", statement=self.statement.text,
            hint=f"{done}; two runs of one backfill must not overlap: see 'pgshift ps', and "
                 "let the other one finish")

    def check_done(self, cur: Any, ctids: list[str]) -> None:
        """A ctid walk meets a row again wherever its update moved it: the WHERE must be false
        for the rows the batch wrote, or they would be updated again (InputError; the caller
        rolls the batch back)."""
        if not ctids:
            return
        cur.execute(matching_sql(self.statement, ctids))
        (matching,) = cur.fetchone()
        if matching:
            raise InputError(
                f"the backfill's WHERE still holds for {matching} of the {len(ctids)} row(s) "
                f"its batch updated: {self.statement.qualified} has no primary key, and a "
                "walk by ctid would update them again wherever they moved",
                hint="make the WHERE false once a row is done (e.g. 'new_col IS NULL' when "
                     "the SET fills new_col; exclude rows the SET leaves as they are), or add "
                     "a primary key; this batch was rolled back")


def _walked(walk: Walk, last: list[str] | None) -> str:
    """How far a walk got, for messages: ``keys (id) up to (5000)``, ``blocks before 12``."""
    if last is None:
        return "none of its keys"
    if isinstance(walk, CtidWalk):
        return f"blocks before {last[0]}"
    return f"keys ({', '.join(walk.key_columns)}) up to ({', '.join(last)})"
