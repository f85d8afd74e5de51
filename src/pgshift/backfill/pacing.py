"""What a backfill does between batches: hold back under pressure, and VACUUM now and then.

Pressure: a standby whose replay lag is above ``max_lag`` (waited out), and sessions queued
for a lock on the table or one of its partitions (up to ``LOCK_WAIT_LIMIT``, halving the next
batch: it would queue behind them). The lag shows only to a role allowed to see
``pg_stat_replication`` in full (superuser, ``pg_read_all_stats``): for another one, the run
says once that ``max-lag`` cannot apply.

VACUUM: every updated row leaves a dead one, which autovacuum at its defaults does not clear
as fast; ``VACUUM (SKIP_LOCKED)`` every N batches, or after every 20% of the table's rows.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

import psycopg2.errors
from psycopg2 import sql

from pgshift.backfill.walk import TableInfo, Walk

_PRESSURE = """
SELECT coalesce((SELECT max(extract(epoch FROM replay_lag)) FROM pg_stat_replication), 0),
       (SELECT count(*) FROM pg_locks WHERE NOT granted AND relation IN
        (SELECT relid FROM pg_partition_tree(%(oid)s))),
       EXISTS (SELECT FROM pg_stat_replication WHERE state IS NULL)
"""
LOCK_WAIT_LIMIT = 2.0  # seconds we hold back while others queue for a lock on the table


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
    """VACUUM the table when the option says it is time (SKIP_LOCKED: never waits)."""
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
    started = time.perf_counter()
    try:
        cur.execute(sql.SQL("VACUUM (SKIP_LOCKED) {}").format(info.ident))
    except psycopg2.errors.QueryCanceled:
        return
    job.vacuums += 1
    job.dead_since_vacuum = 0
    job.batches_at_vacuum = job.batches
    note(f"vacuumed {job.statement.qualified} in {time.perf_counter() - started:.1f}s")
