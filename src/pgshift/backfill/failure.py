"""What a backfill's database errors mean, and the session around them: roll back, record a
failure in the checkpoint, timeouts in milliseconds."""

from __future__ import annotations

from typing import TYPE_CHECKING

import psycopg2
import psycopg2.errors

from pgshift.backfill import progress
from pgshift.errors import MigrationFailedError

if TYPE_CHECKING:
    from psycopg2.extensions import connection as Connection

    from pgshift.backfill.batched import Limits
    from pgshift.backfill.statement import BackfillStatement


def describe(exc: psycopg2.Error, statement: BackfillStatement, limits: Limits, size: int
             ) -> MigrationFailedError:
    """What a batch's error means (a batch of ``size`` keys), and what to do next."""
    what, text = f"backfill of {statement.qualified}", statement.text
    resumes = "run the same backfill again to resume from its checkpoint"
    if isinstance(exc, psycopg2.errors.QueryCanceled):
        if by_operator(exc):
            return MigrationFailedError(
                f"{what}: cancelled by an operator (pg_cancel_backend or 'pgshift kill')",
                sqlstate=exc.pgcode, statement=text,
                hint=f"finished batches stay committed: {resumes}")
        return MigrationFailedError(
            f"{what}: a batch of {size} key(s), the smallest it may be, still exceeded "
            f"statement_timeout {limits.statement_timeout:g}s",
            sqlstate=exc.pgcode, statement=text,
            hint="some rows take that long to update (a trigger, a foreign key's check): fix "
                 f"that, or raise statement_timeout (a batch gets at most 60s), then {resumes}")
    if connection_lost(exc):
        return MigrationFailedError(
            f"{what}: the connection was lost: {first_line(exc)}", sqlstate=exc.pgcode,
            statement=text, hint=f"finished batches stay committed: {resumes}")
    return MigrationFailedError(
        f"{what} failed: {first_line(exc)} [{exc.pgcode}]", sqlstate=exc.pgcode,
        statement=text,
        hint="finished batches stay committed: the same statement resumes after them, but a "
             "changed one starts over from the first row (make its WHERE skip rows done)")


def by_operator(exc: psycopg2.Error) -> bool:
    """A cancel by pg_cancel_backend, not by statement_timeout: one SQLSTATE for both, and
    only the text tells them apart."""
    return "user request" in str(exc)


def connection_lost(exc: psycopg2.Error) -> bool:
    code = exc.pgcode or ""
    return (isinstance(exc, psycopg2.OperationalError | psycopg2.InterfaceError) and not code
            ) or code.startswith(("08", "57P"))


def first_line(exc: psycopg2.Error) -> str:
    diag = getattr(exc, "diag", None)
    text = ((diag.message_primary if diag is not None else None) or str(exc)).strip()
    return text.splitlines()[0] if text else type(exc).__name__


def record_failure(conn: Connection, schema: str, id: str, exc: BaseException) -> None:
    if conn.closed:
        return
    try:
        rollback(conn)
        with conn.cursor() as cur:
            error = " ".join(str(exc).split())  # one line: status prints it in a table
            progress.finish(cur, schema, id, status="failed", error=error[:2000])
    except psycopg2.Error:
        pass


def rollback(conn: Connection) -> None:
    if conn.closed:
        return
    try:
        with conn.cursor() as cur:
            cur.execute("ROLLBACK")
    except psycopg2.Error:
        pass


def ms(seconds: float) -> int:
    """A timeout in milliseconds: 0 (or infinity) is none, as PostgreSQL (and the runner) reads
    it; anything else at least 1 ms, which a shorter one would round down to 0."""
    return 0 if seconds in (0, float("inf")) else max(1, int(seconds * 1000))
