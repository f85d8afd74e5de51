"""How a failed statement is reported: the migration, the statement and its line, and an error
class for its kind (lock timeout, budget or statement timeout, lost lock, anything else).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import psycopg2
import psycopg2.errors

from pgshift.errors import (
    LockBusyError,
    LockTimeoutError,
    MigrationFailedError,
    MigrationTimeoutError,
)
from pgshift.state import history

if TYPE_CHECKING:
    from pgshift.budget import Budget, Limits
    from pgshift.migrations.model import Migration
    from pgshift.migrations.statements import Statement


def refuse_lost_lock(exc: psycopg2.Error, migration: Migration, schema: str) -> None:
    """Raise LockBusyError if ``exc`` is the history row's guard refusing the migration."""
    if history.is_guard_error(exc, schema):
        raise LockBusyError(
            f"{migration.label} was recorded as applied by another runner while this one ran "
            "it (this runner's migration lock was lost); rolled back",
            path=migration.path, migration=migration.label,
            hint="check 'pgshift status'; the other runner applied it") from None


class MarkerGone(Exception):
    """A migration dropped the round trip's marker sequence: run it again without one."""


class StatementError(Exception):
    """``cause`` raised by ``statement`` of ``migration``, whose text began at ``prefix_length``
    in the string sent."""

    def __init__(
        self,
        cause: psycopg2.Error,
        migration: Migration,
        statement: Statement,
        prefix_length: int = 0,
    ) -> None:
        super().__init__(str(cause))
        self.cause = cause
        self.migration = migration
        self.statement = statement
        self.prefix_length = prefix_length


def describe_failure(
    failure: StatementError, limits: Limits, budget: Budget, attempt: int, *,
    transactional: bool = True,
) -> MigrationFailedError:
    """The error to report for ``failure``: which migration, statement and line, and what kind
    (a lock timeout after ``attempt`` tries, the budget or a statement timeout, or the error).
    ``transactional``: whether the part that failed ran in one transaction (rolled back)."""
    exc, migration, statement = failure.cause, failure.migration, failure.statement
    path = statement.path
    line = statement.line + _position_line_offset(exc, statement, failure.prefix_length)
    # A no-transaction migration keeps the statements before this one, and a cancelled
    # CONCURRENTLY statement may leave an INVALID index: running the same command again goes on
    # from this statement (and drops and rebuilds such an index); the error says so.
    where = {
        "path": path,
        "line": line,
        "migration": migration.label,
        "sqlstate": exc.pgcode,
        "statement": statement.text,
        "resume_line": None if transactional else line,
    }
    ended = "; rolled back" if transactional else ""
    if isinstance(exc, psycopg2.errors.LockNotAvailable):
        return LockTimeoutError(
            f"could not get a lock within lock_timeout {limits.lock_timeout:g}s "
            f"after {attempt} attempt(s){ended}",
            hint="a long transaction holds a conflicting lock: find it with 'pgshift ps'",
            **where,
        )
    if isinstance(exc, psycopg2.errors.QueryCanceled) and "user request" in first_line(exc) \
            and not budget.spent():
        return MigrationFailedError(
            f"cancelled by an operator (pg_cancel_backend or 'pgshift kill'){ended}",
            hint="'pgshift status' shows where it stopped; run it again when it may go on",
            **where,
        )
    if isinstance(exc, psycopg2.errors.QueryCanceled):
        if budget.spent():
            return MigrationTimeoutError(
                f"exceeded the migration's {limits.budget:g}s budget; cancelled{ended}",
                hint="raise '-- pgshift:timeout' for this file or --timeout",
                **where,
            )
        return MigrationTimeoutError(
            f"statement cancelled ({first_line(exc)}){ended}",
            hint="raise '-- pgshift:statement-timeout' or --statement-timeout",
            **where,
        )
    code = f" [{exc.pgcode}]" if exc.pgcode else ""  # None when the server closed on us
    return MigrationFailedError(f"{first_line(exc)}{code}{ended}", hint=_hint(exc, statement),
                                **where)


def _hint(exc: psycopg2.Error, statement: Statement) -> str | None:
    """A permission error right after a SET ROLE is most likely pgshift's own history row,
    written in the same transaction as the role the migration switched to. A transaction
    that locks more objects than the server's lock table holds (thousands of DDL statements in
    one migration) runs out of shared memory."""
    if exc.pgcode == "53200":  # out_of_memory: the lock table's shared memory, in practice
        return ("split the migration (each file is one transaction), mark it "
                "'-- pgshift:no-transaction', or raise max_locks_per_transaction on the server")
    if exc.pgcode != "42501" or "schema" not in first_line(exc):
        return None
    from pgshift.migrations.statements import session_settings

    if {"role", "session_authorization"} & set(session_settings([statement])):
        return ("the role the migration switched to may not write pgshift's history: "
                "RESET ROLE (or SET SESSION AUTHORIZATION DEFAULT) before the migration ends")
    return None


def first_line(exc: BaseException) -> str:
    """The error's primary message (its first line)."""
    primary = getattr(getattr(exc, "diag", None), "message_primary", None)
    return primary or (str(exc).strip().splitlines() or [type(exc).__name__])[0]


def _position_line_offset(exc: psycopg2.Error, statement: Statement, prefix_length: int) -> int:
    position = getattr(exc.diag, "statement_position", None)
    if not position:
        return 0
    # A position past the statement's end lies in the history row riding along with it.
    end = min(len(statement.text), max(0, int(position) - 1 - prefix_length))
    return statement.text.count("\n", 0, end)
