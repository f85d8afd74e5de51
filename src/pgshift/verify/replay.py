"""Replaying migrations on a scratch database as pgshift runs them: the applied ones (to stand
for the target), and those ``squash`` bakes into a baseline. A failure names the migration and
its line, with a hint when the scratch server, not the migration, is why (a role it already has,
a database or an extension a throwaway server lacks).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING

from pgshift.errors import CheckFailedError, MigrationFailedError

if TYPE_CHECKING:
    from psycopg2.extensions import connection as Connection

    from pgshift.callbacks import Callbacks
    from pgshift.config import Settings
    from pgshift.migrations.model import Migration
    from pgshift.plan import Plan

Progress = Callable[[str], None]


def replay_applied(conn: Connection, settings: Settings, plan: Plan, say: Progress) -> list[str]:
    """Apply, on the scratch database ``conn``, what ``plan`` says is applied on the target, in
    its order and as pgshift runs it; the names of the files replayed."""
    return replay(conn, settings, _applied_files(plan), say, what="applied migration")


def _applied_files(plan: Plan) -> list[Migration]:
    """The files that make what ``plan`` says is applied, in order. Applied migrations whose
    files were squashed into a baseline and deleted are replayed as that baseline, which then
    stands for every version up to its own."""
    from pgshift.migrations.model import Version

    files: list[Migration] = []
    held: Version | None = None  # what a baseline replayed in their place holds
    for item in plan.items:
        if item.state != "applied":
            continue
        version = None if item.kind == "repeatable" or not item.version else Version.parse(
            item.version)
        if held is not None and version is not None and version <= held:
            continue
        if item.migration is not None:
            files.append(item.migration)
            continue
        squashed = [i.migration for i in plan.items if i.migration is not None
                    and i.kind == "baseline" and version is not None
                    and i.migration.version is not None and i.migration.version >= version]
        if squashed:
            files.append(squashed[0])
            held = squashed[0].version
    return files


def replay(conn: Connection, settings: Settings, migrations: Sequence[Migration],
           say: Progress, *, what: str = "migration",
           after_each: Callable[[Migration], None] | None = None,
           callbacks: Callbacks | None = None) -> list[str]:
    """Apply ``migrations`` on the scratch database ``conn`` as pgshift runs them; the names of
    the files replayed. A failure is a CheckFailedError naming the migration and its line.
    Statements that would change the configured server beyond ``conn``'s database are refused
    before any runs (``pgshift.verify.server_wide``); ``after_each`` sees each file applied.
    ``callbacks`` run around each migration as 'up' runs them (squash's baseline proof)."""
    from pgshift.runner import Runner
    from pgshift.state import upgrades
    from pgshift.verify.server_wide import refuse_server_wide

    refuse_server_wide(conn, migrations)
    upgrades.install(conn, settings.schema)
    runner = Runner(conn, settings, callbacks=callbacks)
    for migration in migrations:
        say(f"Replaying {migration.label} {migration.description} ...")
        try:
            runner.apply(migration, None)
        except MigrationFailedError as exc:
            hint = replay_hint(exc, conn) or (
                "the beforeEachMigrate / afterEachMigrate callbacks ran around it, as 'up' "
                "runs them" if callbacks is not None else None)
            raise CheckFailedError(
                f"replaying {what} failed: {without_resume(exc)}",
                path=exc.path, line=exc.line, migration=migration.label, hint=hint) from exc
        if after_each is not None:
            after_each(migration)
    return [m.name for m in migrations]


def without_resume(exc: MigrationFailedError) -> str:
    """``exc``'s message without what it tells of a part run without a transaction: "the next
    run goes on from line N" holds for 'pgshift up' and 'down' on the target, not for a
    scratch database, where nothing goes on from a failure."""
    return exc.cause if exc.resume_line is not None else exc.message


def replay_hint(exc: MigrationFailedError, conn: Connection) -> str | None:
    """Why a replay may fail where the migration did not: a role the server has already, or
    (on a throwaway server) a database or an extension that is only on the target's."""
    from pgshift.verify.scratch import on_throwaway_server

    text = f" {exc.message}"
    if exc.sqlstate == "42710" and " role " in text:
        return ("roles belong to the whole server, and this one exists on it already: "
                "pass --embedded to replay on a throwaway server")
    if exc.sqlstate == "3D000" and on_throwaway_server(conn):
        return ("the throwaway server has only the scratch database, named like the target's "
                "database when the URL names one: a migration that names another cannot be "
                "replayed")
    extension = _extension_of(exc.statement) if exc.sqlstate in _NO_EXTENSION else None
    if extension is not None and on_throwaway_server(conn):
        return (f"the throwaway server has no extension {extension}: where the target's "
                "server has it, verify there (without --embedded)")
    return None


# What CREATE EXTENSION fails with when the server has no such extension installed.
_NO_EXTENSION = ("0A000", "58P01")


def _extension_of(statement: str | None) -> str | None:
    """The extension a CREATE EXTENSION statement names (None for another statement)."""
    from pglast import parser

    try:
        nodes = parser.parse_sql(statement or "")
    except parser.ParseError:
        return None
    node = nodes[0].stmt if len(nodes) == 1 else None
    return str(node.extname) if type(node).__name__ == "CreateExtensionStmt" else None
