"""One-off backfills (``pgshift backfill``): a batched UPDATE checkpointed under an id derived
from its statement, so the same command run again resumes it. The batches themselves are
``pgshift.backfill.batched``'s; a migration's backfill runs through ``pgshift.backfill.migration``.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING

from pgshift.api import _session
from pgshift.errors import InputError

if TYPE_CHECKING:
    from pgshift.backfill.batched import BackfillResult, Batch
    from pgshift.backfill.options import BackfillOptions
    from pgshift.backfill.progress import BackfillProgress
    from pgshift.config import Settings


def backfill(
    settings: Settings,
    table: str,
    assignments: str,
    where: str | None = None,
    *,
    options: BackfillOptions | None = None,
    again: bool = False,
    on_batch: Callable[[Batch], None] | None = None,
    on_note: Callable[[str], None] | None = None,
) -> BackfillResult:
    """``UPDATE table SET assignments WHERE where`` in batches, resuming an unfinished run.

    One-off job (``pgshift backfill``): checkpointed under an id derived from the statement, so
    running the same command again continues where a killed run stopped; once it finished, it
    does nothing (``done_already``), unless ``again``: then a finished run starts over.
    ``again`` is an InputError while a run of the same statement is running or stopped
    part-way (it resumes without ``again``). Two runs of the same backfill at once are refused
    (LockBusyError). Bad input (the table, the SET, the WHERE) is an InputError before
    pgshift's own tables are installed: the database is left as it was.
    """
    from pgshift.backfill.batched import Limits, prepare_backfill, run_backfill
    from pgshift.backfill.options import BackfillOptions
    from pgshift.backfill.progress import job_id
    from pgshift.backfill.statement import build_update, parse_backfill
    from pgshift.errors import LockBusyError
    from pgshift.state import upgrades

    statement = parse_backfill(build_update(table, assignments, where))
    id = job_id(statement.text)
    options = options or BackfillOptions()
    limits = Limits(
        settings.lock_timeout,
        min(settings.statement_timeout or 60.0, 60.0),
        settings.lock_retries,
    )
    with _session(settings) as conn:
        prepared = prepare_backfill(conn, settings.schema, statement, limits)
        with conn.cursor() as cur:
            cur.execute("SELECT pg_try_advisory_lock(%s, hashtext(%s))", (BACKFILL_LOCK, id))
            (locked,) = cur.fetchone()
        if not locked and again:  # exit 2, not 4: retried once that run ends, it would redo it
            raise InputError(
                f"this backfill of {statement.qualified} is running now: --again starts over "
                "only a finished one",
                hint="let the running one finish ('pgshift ps' shows it), then decide whether "
                     "it must run over")
        if not locked:
            raise LockBusyError(
                f"this backfill of {statement.qualified} is already running",
                hint="see 'pgshift status' or 'pgshift ps'",
            )
        upgrades.install(conn, settings.schema)
        return run_backfill(
            conn,
            settings.schema,
            statement,
            options,
            id=id,
            resume=True,
            again=again,
            limits=limits,
            prepared=prepared,
            on_batch=on_batch,
            on_note=on_note,
        )


BACKFILL_LOCK = 73482016  # advisory lock class of one-off backfills (with hashtext(id))


def backfill_progress(settings: Settings) -> list[BackfillProgress]:
    """Unfinished backfills and those finished in the last hour (reads only)."""
    from pgshift.backfill.progress import read_progress

    with _session(settings) as conn:
        return read_progress(conn, settings.schema)
