"""Backfills inside migrations: the runner hands each ``-- pgshift:backfill`` statement here.

A backfill statement of a ``no-transaction`` migration runs as a batched backfill on the
runner's connection, under the migration's ``lock_timeout`` and ``lock-retries``; each batch gets
the migration's ``statement_timeout`` (at most 60 s). The migration's overall budget does not
apply: a backfill is many short transactions, and may take hours on a large table. An
interrupted run (the migration's history row still ``running`` at this statement) continues
from the checkpoint; a fresh run starts over.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from pgshift.backfill.batched import BackfillResult, Batch, Limits, run_backfill
from pgshift.backfill.options import BackfillOptions, marked_statements
from pgshift.backfill.progress import job_id
from pgshift.backfill.statement import parse_backfill
from pgshift.errors import PgshiftError

if TYPE_CHECKING:
    from psycopg2.extensions import connection as Connection

    from pgshift.migrations.model import Migration
    from pgshift.migrations.statements import Statement

EventHandler = Callable[[str, "Migration", dict[str, Any]], None]


def marked_backfills(migration: Migration, direction: str, statements: list[Statement]
                     ) -> dict[int, BackfillOptions]:
    """Which of ``statements`` (one direction of ``migration``) are backfills."""
    source = migration.up_sql if direction == "up" else (migration.down_sql or "")
    return marked_statements(source, statements)


def run_marked(conn: Connection, schema: str, migration: Migration, direction: str, index: int,
               statement: Statement, options: BackfillOptions, *, lock_timeout: float,
               statement_timeout: float, retries: int, resuming: bool,
               on_event: EventHandler) -> BackfillResult:
    """Run one marked statement as a batched backfill; errors point at its file and line."""
    from pgshift.state.history import key_of

    key = key_of(migration)

    def on_batch(batch: Batch) -> None:
        on_event("backfill", migration, {"batch": batch, "direction": direction})

    def on_note(text: str) -> None:
        on_event("note", migration, {"text": text, "direction": direction})

    try:
        target = parse_backfill(statement.text, path=statement.path, line=statement.line)
        return run_backfill(
            conn, schema, target, options, id=job_id(statement.text, key, direction, index),
            migration=key, resume=resuming,
            limits=Limits(lock_timeout, min(statement_timeout, 60.0), retries),
            on_batch=on_batch, on_note=on_note)
    except PgshiftError as exc:
        if exc.path is None:
            exc.path, exc.line = str(statement.path), statement.line
        exc.migration = exc.migration or migration.label
        raise
