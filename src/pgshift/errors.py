"""The PgshiftError tree and the exit code each kind of failure maps to.

The library raises these; only ``pgshift.cli.main`` catches them and turns them into a
one-line message and an exit code. Exit codes (documented in the README):

====  ==========================================================
0     success
1     lint or check failed (findings at error severity, verify failed)
2     bad input or configuration
3     drift: applied migrations changed, missing or out of order
4     another runner holds the lock (or lock wait deadline passed)
5     a migration failed and was rolled back
70    internal bug
130   interrupted by SIGINT (143: SIGTERM); set by ``cli/main.py``
====  ==========================================================
"""

from __future__ import annotations

import os
from pathlib import Path


class PgshiftError(Exception):
    """Base error: a one-line message, an optional hint and where it happened."""

    exit_code: int = 70

    def __init__(
        self,
        message: str,
        *,
        hint: str | None = None,
        path: str | Path | None = None,
        line: int | None = None,
        migration: str | None = None,
    ) -> None:
        super().__init__(message)
        self.message = message
        self.hint = hint
        self.path = str(path) if path is not None else None
        self.line = line
        self.migration = migration

    def location(self) -> str:
        """``file:line`` (or the migration's name) where the error points, '' if nowhere."""
        if self.path:
            name = Path(self.path).name
            return f"{name}:{self.line}" if self.line else name
        return self.migration or ""

    def __str__(self) -> str:
        where = self.location()
        text = f"{where}: {self.message}" if where else self.message
        return f"{text} (hint: {self.hint})" if self.hint else text


class LintFailedError(PgshiftError):
    """Lint found violations at error severity (or another check failed)."""

    exit_code = 1


class CheckFailedError(PgshiftError):
    """A verification (verify, round trip, compatibility) failed."""

    exit_code = 1


class InputError(PgshiftError):
    """A migration file or argument is malformed."""

    exit_code = 2


class ConfigError(InputError):
    """The configuration (file, environment, flags) is invalid."""

    def location(self) -> str:
        """As PgshiftError's, but a config file is named as found from the working directory
        (``../pgshift.toml``), or in full when that climbs further: the nearest one may be a
        parent's, and every project's is called pgshift.toml or pyproject.toml."""
        where = super().location()
        if not self.path:
            return where
        try:
            shown = os.path.relpath(self.path)
        except ValueError:  # on another drive (Windows)
            shown = self.path
        if shown.startswith(os.path.join(os.pardir, os.pardir, "")):
            shown = os.path.abspath(self.path)
        return shown + where[len(Path(self.path).name):]


class DatabaseConnectionError(InputError):
    """The database could not be reached or refused us (bad URL, password, server down)."""


class IrreversibleError(InputError):
    """A down was asked of a migration that declares itself irreversible."""


class DriftError(PgshiftError):
    """Applied migrations differ from the files: changed, missing or out of order."""

    exit_code = 3


class LockBusyError(PgshiftError):
    """Another runner holds pgshift's advisory lock past the wait deadline."""

    exit_code = 4


class MigrationFailedError(PgshiftError):
    """A migration failed; its transaction was rolled back.

    ``sqlstate`` and ``position`` come from PostgreSQL when it reported them. ``resume_line``:
    for a part run without a transaction, the line the next run goes on from (its earlier
    statements stay done), which the message then says; ``cause`` is the message without it.
    """

    exit_code = 5

    def __init__(
        self,
        message: str,
        *,
        sqlstate: str | None = None,
        statement: str | None = None,
        resume_line: int | None = None,
        **kwargs: object,
    ) -> None:
        resumes = ("" if resume_line is None else
                   f"; its earlier statements stay done, and the next run goes on from line "
                   f"{resume_line}")
        super().__init__(message + resumes, **kwargs)  # type: ignore[arg-type]
        self.cause = message
        self.sqlstate = sqlstate
        self.statement = statement
        self.resume_line = resume_line


class MigrationTimeoutError(MigrationFailedError):
    """A statement or the migration's overall budget ran out; it was cancelled and rolled back."""


class LockTimeoutError(MigrationFailedError):
    """Every retry gave up waiting for a table lock (lock_timeout); nothing was applied."""

