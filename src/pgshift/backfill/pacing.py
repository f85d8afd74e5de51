"""What a backfill does between batches: hold back under pressure, and VACUUM now and then.

Pressure: a standby whose replay lag is above ``max_lag`` (waited out), and sessions queued
for a lock on the table or one of its partitions (up to ``LOCK_WAIT_LIMIT``, halving the next
batch: it would queue behind them). The lag shows only to a role allowed to see
``pg_stat_replication`` in full (superuser, ``pg_read_all_stats``): for another one, the run
says once that ``max-lag`` cannot apply.

VACUUM: every updated row leaves a dead one, which autovacuum at its defaults does not clear
as fast; a ``VACUUM`` every N batches, or after every 20% of the table's rows. It holds a
SHARE UPDATE EXCLUSIVE lock, which other DDL (and autovacuum) wait for, so it is bounded: it
waits at most ``VACUUM_LOCK_TIMEOUT`` for its locks (it does not queue behind other DDL, and
what queues behind it waits that long at most), and runs at most the batches'
``statement_timeout`` (``VACUUM_TIME_LIMIT`` when they have none). A VACUUM skipped or
cancelled is harmless (the dead rows wait for the next one, or autovacuum): a notice says so,
the backfill goes on, and the next VACUUM is tried when it is due again.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

import psycopg2.errors
from psycopg2 import sql

from pgshift.backfill.failure import by_operator, ms
from pgshift.backfill.walk import TableInfo, Walk

_PRESSURE = """
SELECT coalesce((SELECT max(extract(epoch FROM replay_lag)) FROM pg_stat_replication), 0),
       (SELECT count(*) FROM pg_locks WHERE NOT granted AND relation IN
        (SELECT relid FROM pg_partition_tree(%(oid)s))),
       EXISTS (SELECT FROM pg_stat_replication WHERE state IS NULL)
"""
LOCK_WAIT_LIMIT = 2.0  # seconds we hold back while others queue for a lock on the table
VACUUM_LOCK_TIMEOUT = 0.1  # seconds a VACUUM waits for its locks before it is skipped
VACUUM_TIME_LIMIT = 60.0  # seconds a VACUUM runs at most when batches have no statement_timeout


def hold_back(cur: Any, job: Any, info: TableInfo, note: Callable[[str], None]) -> None:
    """Wait while a standby lags, or (for a while) others queue for a lock on the table."""
    waited = 0.0
    told_lag = told_locks = False
    while True:
        cur.execute(_PRESSURE, {"oid": info.oid})
        lag, waiters, hidden = cur.fetchone()
        if hidden and not job.told_hidden_lag:
            job.told_hidden_lag = True
            note("this role cannot see the standbys' replication lag (it needs "
                 "pg_read_all_stats): max-lag does not apply")
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
                job.smaller()
            time.sleep(0.1)
            waited += 0.1
            continue
        return


def vacuum_if_due(cur: Any, job: Any, info: TableInfo, walk: Walk,
                  note: Callable[[str], None]) -> None:
    """VACUUM the table when the option says it is time, within its bounds (see above)."""
    options = job.options
    if not options.vacuum:
        return
    if options.vacuum_every is not None:
        due = job.dead_since_vacuum > 0 and (
            job.batches - job.batches_at_vacuum >= options.vacuum_every)
    else:
        due = job.dead_since_vacuum >= max(10_000, int(0.2 * (walk.rows_total or 0)))
    if not due:
        return
    job.dead_since_vacuum = 0  # done, skipped or cancelled: the next one when due again
    job.batches_at_vacuum = job.batches
    limit = job.limits.statement_timeout or VACUUM_TIME_LIMIT
    what = f"VACUUM of {job.statement.qualified}"
    started = time.perf_counter()
    try:
        with _bounded(cur, lock_timeout=VACUUM_LOCK_TIMEOUT, statement_timeout=limit):
            cur.execute(sql.SQL("VACUUM {}").format(info.ident))
    except psycopg2.errors.LockNotAvailable:
        note(f"{what} skipped: another session holds a lock on it (waited "
             f"{VACUUM_LOCK_TIMEOUT:g}s); harmless, the backfill goes on")
        return
    except psycopg2.errors.QueryCanceled as exc:
        why = "by an operator" if by_operator(exc) else f"at its time limit ({limit:g}s)"
        note(f"{what} cancelled {why} after {time.perf_counter() - started:.1f}s; harmless "
             "(the dead rows wait for the next VACUUM or autovacuum), the backfill goes on")
        return
    job.vacuums += 1
    note(f"vacuumed {job.statement.qualified} in {time.perf_counter() - started:.1f}s")


@contextmanager
def _bounded(cur: Any, *, lock_timeout: float, statement_timeout: float) -> Iterator[None]:
    """The session's lock_timeout and statement_timeout set for a statement that cannot run in
    a transaction block (``SET LOCAL`` would not last), then put back as they were."""
    cur.execute("SELECT current_setting('lock_timeout'), current_setting('statement_timeout')")
    before = cur.fetchone()
    cur.execute(f"SET lock_timeout = {ms(lock_timeout)}")
    cur.execute(f"SET statement_timeout = {ms(statement_timeout)}")
    try:
        yield
    finally:
        cur.execute("SELECT set_config('lock_timeout', %s, false), "
                    "set_config('statement_timeout', %s, false)", before)
