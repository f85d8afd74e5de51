"""Flyway-style callbacks: SQL files run around a whole run and around each migration.

A callback is a file named after its event, ``beforeMigrate.sql`` or, to have several,
``beforeMigrate__grants.sql`` (run in name order), in the migrations directory or in its
``callbacks/`` folder. Events:

- ``beforeMigrate`` / ``afterMigrate``: once per ``up`` that applies something, each in a
  transaction of its own, after the lock is taken and before it is released;
- ``beforeEachMigrate`` / ``afterEachMigrate``: around every migration, inside its transaction
  (a failure rolls the migration back with them);
- ``beforeUndo`` / ``afterUndo`` and ``beforeEachUndo`` / ``afterEachUndo``: the same for ``down``.

Callbacks get the same ``${placeholders}`` as migrations. They are not migrations: no history
row, no checksum; they run every time, so write them to be repeatable (``GRANT`` is).
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from pgshift.errors import MigrationFailedError

if TYPE_CHECKING:
    from psycopg2.extensions import connection as Connection

    from pgshift.config import Settings
    from pgshift.migrations.statements import Statement

EVENTS = (
    "beforeMigrate", "beforeEachMigrate", "afterEachMigrate", "afterMigrate",
    "beforeUndo", "beforeEachUndo", "afterEachUndo", "afterUndo",
)
# Flyway's other events, around commands pgshift has none of (clean, info) or moments it does
# not call back at (each statement, errors): their files are callbacks, not migrations, and
# are not run (docs/coming-from.md says which run).
NOT_RUN = tuple(
    f"{when}{what}" for what in ("Migrate", "EachMigrate", "EachMigrateStatement", "Undo",
                                 "EachUndo", "EachUndoStatement", "Clean", "Info", "Validate",
                                 "Baseline", "Repair", "Repeatables", "Versioned", "Connect")
    for when in ("before", "after")) + tuple(
    f"after{what}Error" for what in ("Migrate", "EachMigrate", "EachMigrateStatement", "Undo",
                                     "EachUndo", "EachUndoStatement", "Clean", "Info",
                                     "Validate", "Baseline", "Repair")) + (
    "afterMigrateApplied", "createSchema")
_NAME = re.compile(rf"^(?P<event>{'|'.join(EVENTS)})(?:__(?P<desc>.+))?\.sql$")
_ANY_NAME = re.compile(rf"^(?P<event>{'|'.join(set(EVENTS) | set(NOT_RUN))})"
                       r"(?:__(?P<desc>.+))?\.sql$")
FOLDER = "callbacks"
_AROUND_EACH = {"up": ("beforeEachMigrate", "afterEachMigrate"),
                "down": ("beforeEachUndo", "afterEachUndo")}
AROUND_RUN = {"up": ("beforeMigrate", "afterMigrate"), "down": ("beforeUndo", "afterUndo")}
# What a run callback's failure leaves. Its own transaction is rolled back; an after… one
# runs once the migrations committed, and those stay, which "rolled back" alone would deny.
_AFTERMATH = {
    "beforeMigrate": "the callback was rolled back, and no migration ran",
    "afterMigrate": "the callback was rolled back, the migrations this run applied stay applied",
    "beforeUndo": "the callback was rolled back, and no migration was rolled back",
    "afterUndo": "the callback was rolled back, the migrations this run rolled back stay "
                 "rolled back",
}


def is_callback(name: str) -> bool:
    """Whether a file name is a callback's (discovery skips those), run or not."""
    return _ANY_NAME.match(name) is not None


@dataclass(frozen=True)
class Callback:
    """One callback file, with its SQL (placeholders filled) split into statements."""

    event: str
    path: Path
    statements: tuple[Statement, ...]


@dataclass(frozen=True)
class Callbacks:
    """Every callback of a migrations directory."""

    files: tuple[Callback, ...] = ()

    def of(self, event: str) -> list[Callback]:
        return [c for c in self.files if c.event == event]

    def around(self, statements: list[Statement], direction: str) -> list[Statement]:
        """A migration's statements between its beforeEach… and afterEach… callbacks."""
        if not self.files:
            return statements
        before, after = _AROUND_EACH[direction]
        return [*(s for c in self.of(before) for s in c.statements), *statements,
                *(s for c in self.of(after) for s in c.statements)]

    def session_settings(self, direction: str) -> tuple[str, ...]:
        """What the callbacks around each migration leave in the session (see
        ``migrations.statements.session_settings``): the runner undoes it after each."""
        if not self.files:
            return ()
        from pgshift.migrations.statements import session_settings

        return session_settings(self.around([], direction))

    def run_around(self, conn: Connection, settings: Settings, direction: str, *,
                   after: bool) -> None:
        """The run's callbacks: beforeMigrate (beforeUndo), or ``after`` afterMigrate
        (afterUndo)."""
        self.run(conn, settings, AROUND_RUN[direction][after])

    def run(self, conn: Connection, settings: Settings, event: str) -> None:
        """Run ``event``'s files, each in a transaction of its own under lock_timeout."""
        for callback in self.of(event):
            _run_file(conn, settings, callback)


def load_callbacks(directory: Path, placeholders: Mapping[str, str] | None = None) -> Callbacks:
    """The callbacks in ``directory`` and ``directory/callbacks``; parsed and checked now."""
    paths = []
    for folder in (directory, directory / FOLDER):
        if folder.is_dir():
            paths.extend(p for p in folder.iterdir()
                         if _NAME.match(p.name) is not None and p.is_file())
    if not paths:
        return Callbacks()
    from pgshift.migrations.discover import _read
    from pgshift.migrations.statements import check_transactional, split_statements
    from pgshift.placeholders import check_resolved, substitute

    files = []
    for path in sorted(paths, key=lambda p: (p.name, str(p))):
        text = substitute(_read(path), placeholders or {})
        check_resolved(text, path)
        statements = split_statements(text, path)
        check_transactional(statements)
        match = _NAME.match(path.name)
        assert match is not None
        files.append(Callback(match["event"], path, tuple(statements)))
    return Callbacks(tuple(files))


def _run_file(conn: Connection, settings: Settings, callback: Callback) -> None:
    import psycopg2

    from pgshift.migrations.statements import reset_sql, session_settings

    lock_ms = max(1, int(settings.lock_timeout * 1000))
    with conn.cursor() as cur:
        statement: Any = None
        try:
            cur.execute(f"BEGIN; SET LOCAL lock_timeout = {lock_ms}")
            for statement in callback.statements:
                cur.execute(statement.text)
            cur.execute("COMMIT")
            statement = None
            names = session_settings(list(callback.statements))
            if names:  # as after a migration: pgshift's own reads run without them
                cur.execute(reset_sql(names))
        except psycopg2.Error as exc:
            if not conn.closed:
                cur.execute("ROLLBACK")
            message = getattr(exc.diag, "message_primary", None) or str(exc).strip()
            line = statement.line if statement is not None else None
            raise MigrationFailedError(
                f"callback {callback.event} failed: {message} [{exc.pgcode}]; "
                f"{_AFTERMATH.get(callback.event, 'rolled back')}",
                path=callback.path, line=line, sqlstate=exc.pgcode,
                statement=statement.text if statement is not None else None) from exc
