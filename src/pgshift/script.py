"""A run written as a psql script, for a DBA to review and apply where pgshift does not run.

``pgshift up --script FILE`` (and ``down --script FILE``) writes what the run would do, after
the checks the run makes (drift, the lint gate, columns in use): the same SQL with placeholders
filled, the same timeouts, callbacks and history rows, under the same advisory lock. Like
Alembic's ``--sql`` and Liquibase's ``updateSQL``, but safe to run again and after a failure:

- it waits for the advisory lock pgshift's runners take (at most ``lock-wait``), so a script
  and a runner never migrate at once;
- each migration is guarded by its history row, read just before it: one already applied (by an
  earlier run of the script, or by pgshift) is skipped, so a second run changes nothing and a
  run stopped by an error goes on from the migration that failed;
- a transactional migration commits with its history row, as pgshift runs it; a
  ``no-transaction`` one is recorded as running first and counts its statements, so a new run
  of the script (or ``pgshift up``) resumes after those done, and an INVALID index left by a
  failed ``CREATE INDEX CONCURRENTLY`` is dropped and built again, as ``pgshift.indexes`` does.

What psql cannot do, the script does not pretend to: a lock timeout stops it rather than being
retried (run it again), only ``statement_timeout`` bounds a migration (not the overall budget),
and a batched backfill (``-- pgshift:backfill``) is refused: it needs pgshift. A role's
``PASSWORD '…'`` becomes a psql variable given with ``-v``, so no password is in the file.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from psycopg2 import sql

from pgshift import __version__
from pgshift.errors import InputError
from pgshift.migrations.statements import Statement
from pgshift.runner import Direction
from pgshift.script_baseline import BaselineGuards
from pgshift.script_migration import still_to_run, write_steps, write_transactional
from pgshift.script_statements import comment, script_body, statement_lines
from pgshift.state import history, upgrades

if TYPE_CHECKING:
    from psycopg2.extensions import connection as Connection

    from pgshift.callbacks import Callbacks
    from pgshift.config import Settings
    from pgshift.migrations.model import Migration


@dataclass(frozen=True)
class Script:
    """A psql script of a run: its text, the migrations in it, in order, and the psql variables
    it needs (``-v NAME=VALUE``: the passwords it does not hold)."""

    text: str
    direction: Direction
    migrations: tuple[Migration, ...] = ()
    variables: tuple[str, ...] = ()


def write_script(
    conn: Connection, settings: Settings, migrations: Sequence[Migration], direction: Direction,
    *, callbacks: Callbacks | None = None, target: str = "", written_by: str = "pgshift",
    after: Migration | None = None,
) -> Script:
    """The psql script that runs ``migrations`` (already selected and checked) ``direction``.

    ``after``: the migration a target must have for the script to run at all (``--after``);
    without it, the migrations after it would run over a gap.

    Raises InputError for what a script cannot run: a batched backfill, a no-transaction
    migration with ``single_transaction``, a password where psql cannot take it from ``-v``.
    """
    builder = ScriptBuilder(conn, settings, direction, callbacks)
    together = settings.single_transaction and direction == "up"
    for migration in migrations:  # what a script cannot run is refused before anything else
        if together and not migration.transactional:
            raise InputError("cannot run a no-transaction migration with --single-transaction",
                             path=migration.path, migration=migration.label)
        builder.bodies[migration.name] = script_body(migration, direction, callbacks,
                                                   builder.variables)
    builder.header(migrations, target, written_by)
    if after is not None:
        builder.require(after)
    if direction == "up":
        builder.guards.files = [m.version for m in migrations
                         if m.kind == "versioned" and m.version is not None]
        builder.guards.baselines = [m for m in migrations if m.kind == "baseline"]
        for baseline in builder.guards.baselines:
            builder.require_path(baseline)
    builder.anything_to_do(migrations)  # after the checks, as up takes them before callbacks
    if together:
        builder.emit("BEGIN;")
    for migration in migrations:
        if migration.transactional_in(direction):
            write_transactional(builder, migration, own_transaction=not together)
        else:
            write_steps(builder, migration)
    if together:
        builder.emit("COMMIT;")
    builder.footer()
    return Script(builder.text(), direction, tuple(migrations), tuple(builder.variables))


@dataclass
class ScriptBuilder:
    """The script being written: its lines, the psql variables it needs and the SQL names of
    pgshift's tables; one migration's part is ``script_migration``."""

    conn: Connection
    settings: Settings
    direction: Direction
    callbacks: Callbacks | None
    lines: list[str] = field(default_factory=list)
    variables: list[str] = field(default_factory=list)
    bodies: dict[str, list[Statement]] = field(default_factory=dict)

    def __post_init__(self) -> None:
        self.table = history.table(self.settings.schema).as_string(self.conn)
        self.runs = history.table(self.settings.schema, "runs").as_string(self.conn)
        self.guards = BaselineGuards(self.table, self.literal)

    def emit(self, *lines: str) -> None:
        self.lines.extend(lines)

    def text(self) -> str:
        return "\n".join(self.lines) + "\n"

    def literal(self, value: Any) -> str:
        return sql.Literal(value).as_string(self.conn)

    def script_name(self) -> str:
        return self.literal(f"{self.settings.application_name} script")

    # -- the run ---------------------------------------------------------------------------------

    def header(self, migrations: Sequence[Migration], target: str, written_by: str) -> None:
        verb = "apply" if self.direction == "up" else "roll back"
        names = (migrations[0].name if len(migrations) == 1
                 else f"{migrations[0].name} to {migrations[-1].name}")
        flags = "".join(f" -v {variable}=..." for variable in self.variables)
        self.emit(
            f"-- pgshift {self.direction} script: {verb} {len(migrations)} migration(s), "
            f"written by {written_by}",
            comment(f"for {target}" if target else "for the database it was planned on"),
            comment(f"migrations: {names}"),
            "-- Run it with psql 10 or later, as the role that runs migrations:",
            f"--   psql -X -f THIS_FILE{flags} DATABASE_URL",
            "-- Safe to run again: what is already done is skipped, and a stopped run goes on",
            "-- from where it stopped. A lock timeout stops it: run it again.",
            "",
            "\\set ON_ERROR_STOP on",
            "\\set QUIET on",
            "\\set AUTOCOMMIT on",  # a psqlrc's 'off' would run it all in one transaction
            "\\encoding UTF8",  # the file's, not that of the DBA's locale (or PGCLIENTENCODING)
        )
        for variable in self.variables:
            self.emit(f"\\if :{{?{variable}}}", "\\else",
                      f"\\echo 'pgshift: this script needs -v {variable}=... (a password)'",
                      "\\quit", "\\endif")
        lock_wait = max(1, int(self.settings.lock_wait * 1000))
        self.emit(
            f"SET application_name = {self.script_name()};",
            f"\\echo 'Waiting for pgshift''s lock (at most {lock_wait} ms) ...'",
            f"SET lock_timeout = {lock_wait};",
            f"SELECT pg_advisory_lock({int(self.settings.lock_key)}) AS pgshift_locked \\gset",
            "RESET lock_timeout;",
            "",
            "-- pgshift's own schema and history table, as pgshift creates them",
            upgrades.install_sql(self.settings.schema).as_string(self.conn),
            "",
            "-- this run in pgshift's run log ('pgshift log'): interrupted if psql stops early",
            f"INSERT INTO {self.runs} (command, machine, pgshift_version) VALUES "
            f"({self.literal(self.direction + ' --script')}, coalesce(host(inet_client_addr()), "
            f"'local'), {self.literal(__version__)}) RETURNING id AS pgshift_run_id \\gset",
        )

    def anything_to_do(self, migrations: Sequence[Migration]) -> None:
        """``pgshift_any``: whether a migration of the script is still to run here, read before
        any runs; the run's callbacks (beforeMigrate…) run only then, as ``up`` runs them only
        when it applies something: a second run of the script changes nothing."""
        checks = " OR ".join(f"({still_to_run(self, m)})" for m in migrations) or "false"
        self.emit("", f"SELECT {checks} AS pgshift_any \\gset")
        self._run_callbacks(after=False)

    def require(self, migration: Migration) -> None:
        """Stop, before anything runs, on a database that does not have ``migration``."""
        has = (f"EXISTS (SELECT FROM {self.table} WHERE key = "
               f"{self.literal(history.key_of(migration))} AND status = 'applied') OR "
               f"{self.guards.holds(migration)}")
        message = self.literal(f"pgshift: this script is for a database at {migration.label} "
                               "or later, and this one is not: nothing was run")
        self.emit("", f"SELECT {has} AS pgshift_has_after \\gset", "\\if :pgshift_has_after",
                  "\\else", f"DO $pgshift$ BEGIN RAISE EXCEPTION {message}; END $pgshift$;",
                  "\\endif")

    def require_path(self, baseline: Migration) -> None:
        """Stop, before anything runs, on a database that ran migrations and is behind
        ``baseline`` but lacks some of what it holds that the script cannot run (files deleted
        too soon): the migrations after it would run over the gap, which ``up`` refuses (see
        ``pgshift.plan``)."""
        message = self.literal(f"pgshift: this database is behind {baseline.name} but has not "
                               "run all it holds, and the files of those it lacks are gone: "
                               "nothing was run (see 'pgshift status')")
        self.emit("", f"SELECT {self.guards.path_open(baseline)} AS pgshift_path \\gset",
                  "\\if :pgshift_path", "\\else",
                  f"DO $pgshift$ BEGIN RAISE EXCEPTION {message}; END $pgshift$;", "\\endif")

    def footer(self) -> None:
        self._run_callbacks(after=True)
        self.emit(
            "",
            f"UPDATE {self.runs} SET status = 'done', finished_at = clock_timestamp() "
            "WHERE id = :pgshift_run_id;",
            f"SELECT pg_advisory_unlock({int(self.settings.lock_key)}) AS pgshift_unlocked "
            "\\gset",
            f"\\echo 'pgshift {self.direction} script: done'",
        )

    def _run_callbacks(self, *, after: bool) -> None:
        """The run's callbacks (before it, or ``after``), each in a transaction of its own (as
        ``Callbacks.run``)."""
        if self.callbacks is None:
            return
        from pgshift.callbacks import AROUND_RUN

        event = AROUND_RUN[self.direction][after]
        lock_ms = max(1, int(self.settings.lock_timeout * 1000))
        callbacks = self.callbacks.of(event)
        if not callbacks:
            return
        self.emit("", "\\if :pgshift_any")
        for callback in callbacks:
            self.emit(comment(f"callback {callback.path.name}"), "BEGIN;",
                      f"SET LOCAL lock_timeout = {lock_ms};")
            self.emit(*statement_lines(callback.statements))
            self.emit("COMMIT;")
        self.emit("\\endif")
