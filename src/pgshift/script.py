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
from pgshift.budget import Limits
from pgshift.errors import InputError
from pgshift.migrations.statements import Statement
from pgshift.runner import Direction, body_statements
from pgshift.script_baseline import BaselineGuards
from pgshift.state import history, upgrades

if TYPE_CHECKING:
    from psycopg2.extensions import connection as Connection

    from pgshift.callbacks import Callbacks
    from pgshift.config import Settings
    from pgshift.migrations.model import Migration

SECRET_VARIABLE = "pgshift_secret_{}"
_DURATION_SQL = "(extract(epoch FROM clock_timestamp() - now()) * 1000)::bigint"
_ROLE_STATEMENTS = ("CreateRoleStmt", "AlterRoleStmt")


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
    builder = _Builder(conn, settings, direction, callbacks)
    together = settings.single_transaction and direction == "up"
    for migration in migrations:  # what a script cannot run is refused before anything else
        if together and not migration.transactional:
            raise InputError("cannot run a no-transaction migration with --single-transaction",
                             path=migration.path, migration=migration.label)
        builder.bodies[migration.name] = builder.body(migration)
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
            builder.transactional(migration, own_transaction=not together)
        else:
            builder.steps(migration)
    if together:
        builder.emit("COMMIT;")
    builder.footer()
    return Script(builder.text(), direction, tuple(migrations), tuple(builder.variables))


@dataclass
class _Builder:
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

    # -- the run ---------------------------------------------------------------------------------

    def header(self, migrations: Sequence[Migration], target: str, written_by: str) -> None:
        verb = "apply" if self.direction == "up" else "roll back"
        names = (migrations[0].name if len(migrations) == 1
                 else f"{migrations[0].name} to {migrations[-1].name}")
        flags = "".join(f" -v {variable}=..." for variable in self.variables)
        self.emit(
            f"-- pgshift {self.direction} script: {verb} {len(migrations)} migration(s), "
            f"written by {written_by}",
            _comment(f"for {target}" if target else "for the database it was planned on"),
            _comment(f"migrations: {names}"),
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
            f"SET application_name = {self._script_name()};",
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
        checks = " OR ".join(f"({self._check(m)})" for m in migrations) or "false"
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
            self.emit(_comment(f"callback {callback.path.name}"), "BEGIN;",
                      f"SET LOCAL lock_timeout = {lock_ms};")
            self._statements(callback.statements)
            self.emit("COMMIT;")
        self.emit("\\endif")

    # -- one migration ---------------------------------------------------------------------------

    def transactional(self, migration: Migration, *, own_transaction: bool) -> None:
        """Guarded by its row; its statements and its history row in one transaction."""
        self._open(migration, "one transaction")
        if own_transaction:
            self.emit("BEGIN;")
        self.emit(Limits.of(migration, self.settings).set_sql("LOCAL") + ";",
                  f"SET LOCAL application_name = {self._app_name(migration)};")
        self._statements(self.bodies[migration.name])
        self.emit(self._record(migration) + ";")
        if own_transaction:
            self.emit("COMMIT;")
        else:  # one transaction for all: its SET LOCALs must not reach the next (see Runner)
            from pgshift.migrations.statements import local_reset_sql, local_settings

            names = local_settings(self.bodies[migration.name])
            if names:
                self.emit(local_reset_sql(names) + ";")
        self.emit("RESET search_path;")  # as the runner: a function it called may have set it
        self._close(migration)

    def steps(self, migration: Migration) -> None:
        """Statement by statement in autocommit, counted in its row (``running`` or
        ``reverting``) so that a new run resumes after the ones done."""
        key = self.literal(history.key_of(migration))
        marker = "running" if self.direction == "up" else "reverting"
        statements = self.bodies[migration.name]
        # The hash of the statements done after each one (see Runner): a row stopped part-way
        # whose statements done are not this file's first ones stops the script, as 'up' stops.
        digest, hashes = history.done_digest([]), ["NULL"]
        for statement in statements:
            history.add_done(digest, statement.text)
            hashes.append(self.literal(digest.hexdigest()))
        expected = "CASE :pgshift_done " + " ".join(
            f"WHEN {n} THEN {h}" for n, h in enumerate(hashes)) + " END"
        message = self.literal(f"pgshift: {migration.name} changed above where its interrupted "
                               "run stopped: restore the statements it ran")
        self._open(migration, "no transaction, statement by statement")
        self.emit(
            "SELECT coalesce(max(statements_done), 0) AS pgshift_done, count(*) > 0 AS "
            f"pgshift_resuming, coalesce(bool_or(done_sha IS NOT NULL), false) AS pgshift_hashed "
            f"FROM {self.table} WHERE key = {key} AND status = '{marker}' \\gset",
            f"SELECT :'pgshift_hashed'::boolean AND (SELECT done_sha FROM {self.table} WHERE key "
            f"= {key}) IS DISTINCT FROM {expected} AS pgshift_drift \\gset",
            "\\if :pgshift_drift",
            f"DO $pgshift$ BEGIN RAISE EXCEPTION {message}; END $pgshift$;", "\\endif",
            f"SET application_name = {self._app_name(migration)};",
            history.upsert_sql(self.settings.schema, migration, marker,
                               duration_sql="NULL").as_string(self.conn) + ";",
            f"UPDATE {self.table} SET statements_done = :pgshift_done, done_sha = {expected} "
            f"WHERE key = {key};",
            Limits.of(migration, self.settings).set_sql("SESSION") + ";",
        )
        for index, statement in enumerate(statements):
            self._step(statement, index, key, hashes[index + 1])
        if self.direction == "up":
            done = history.upsert_sql(self.settings.schema, migration, "applied",
                                      duration_sql="NULL")
        else:
            done = history.delete_sql(self.settings.schema, history.key_of(migration))
        self.emit(done.as_string(self.conn) + ";",
                  "RESET lock_timeout;", "RESET statement_timeout;", "RESET search_path;",
                  f"SET application_name = {self._script_name()};")
        self._close(migration)

    def _step(self, statement: Statement, index: int, key: str, done_sha: str) -> None:
        from pgshift.indexes import build_lookup_sql, dropped_sql

        with self.conn.cursor() as cur:
            lookup = build_lookup_sql(cur, statement)
            done_before = (  # resumed at an index built, or dropped, before an interruption
                f"EXISTS (SELECT FROM ({lookup}) AS found WHERE found.indisvalid)"
                if lookup is not None else dropped_sql(cur, statement))
        guard = f":pgshift_done <= {index}"
        if done_before is not None:
            guard += (f" AND NOT (:'pgshift_resuming'::boolean AND :pgshift_done = {index} "
                      f"AND {done_before})")
        self.emit(f"SELECT {guard} AS pgshift_step \\gset", "\\if :pgshift_step")
        if lookup is not None:  # an INVALID index of a failed build: dropped, then built again
            self.emit("SELECT format('DROP INDEX CONCURRENTLY %I.%I', found.nspname, "
                      f"found.relname) FROM ({lookup}) AS found WHERE NOT found.indisvalid "
                      "\\gexec")
        self._statements([statement])
        self.emit(f"UPDATE {self.table} SET statements_done = {index + 1}, done_sha = "
                  f"{done_sha} WHERE key = {key};",
                  "\\endif")

    def _open(self, migration: Migration, mode: str) -> None:
        verb = "applying" if self.direction == "up" else "rolling back"
        self.emit("", _comment(f"{migration.label} {migration.description} ({migration.name}): "
                               f"{mode}"),
                  f"SELECT {self._check(migration)} AS pgshift_run \\gset", "\\if :pgshift_run",
                  f"\\echo {self.literal(f'{migration.name}: {verb}')}")

    def _check(self, migration: Migration) -> str:
        """SQL: whether ``migration`` is still to run (or roll back) here."""
        key = self.literal(history.key_of(migration))
        if self.direction == "down":
            statuses = ("('applied', 'reverting')" if not migration.transactional_in("down")
                        else "('applied')")
            check = f"EXISTS (SELECT FROM {self.table} WHERE key = {key} AND status IN {statuses})"
        elif migration.kind == "baseline":  # only a database with no migration yet
            check = (f"NOT EXISTS (SELECT FROM {self.table} WHERE kind IN ('versioned', "
                     "'baseline') AND status <> 'failed')")
        else:
            same = (f" AND checksum = {self.literal(migration.checksum)}"
                    if migration.version is None else "")  # a repeatable runs again if changed
            check = (f"NOT EXISTS (SELECT FROM {self.table} WHERE key = {key} "
                     f"AND status = 'applied'{same})")
            if migration.version is not None:  # nor one that a baseline built here holds
                check += f" AND NOT {self.guards.holds(migration)}"
        return check

    def _close(self, migration: Migration) -> None:
        from pgshift.migrations.statements import reset_sql, session_settings

        names = session_settings(self.bodies[migration.name])
        if names:  # as pgshift does: the next statements run without them
            self.emit(reset_sql(names) + ";")
        state = "already applied" if self.direction == "up" else "not applied"
        if migration.kind == "baseline" and self.direction == "up":
            state = "only for a database without migrations"
        self.emit(f"UPDATE {self.runs} SET migrations = migrations || "
                  f"ARRAY[{self.literal(migration.name)}], keys = keys || "
                  f"ARRAY[{self.literal(history.key_of(migration))}] WHERE id = :pgshift_run_id;",
                  "\\else", f"\\echo {self.literal(f'{migration.name}: {state}; skipped')}",
                  "\\endif")

    def _record(self, migration: Migration) -> str:
        if self.direction == "down":
            return history.delete_sql(self.settings.schema, history.key_of(migration)
                                      ).as_string(self.conn)
        return history.upsert_sql(self.settings.schema, migration, "applied",
                                  duration_sql=_DURATION_SQL).as_string(self.conn)

    def _script_name(self) -> str:
        return self.literal(f"{self.settings.application_name} script")

    def _app_name(self, migration: Migration) -> str:
        """As the runner names its session, so that ``pgshift ps`` shows the migration."""
        return self.literal(f"{self.settings.application_name} {self.direction} {migration.name}")

    # -- statements ------------------------------------------------------------------------------

    def body(self, migration: Migration) -> list[Statement]:
        """The statements the migration runs, with its beforeEach…/afterEach… callbacks; what a
        script cannot run is refused here."""
        body = body_statements(migration, self.direction)
        from pgshift.backfill.migration import marked_backfills

        backfills = marked_backfills(migration, self.direction, body)
        if backfills:
            line = body[min(backfills)].line
            raise InputError("a batched backfill (-- pgshift:backfill) cannot run from a script",
                             path=migration.path, line=line, migration=migration.label,
                             hint="apply this migration with 'pgshift up'; script the ones "
                                  "before it with --to")
        statements = self.callbacks.around(body, self.direction) if self.callbacks else body
        return [self._without_passwords(s) for s in statements]

    def _without_passwords(self, statement: Statement) -> Statement:
        """A role's password literal becomes a psql variable (``-v``): never in the file."""
        from pgshift.redaction import sql_passwords

        spans = sql_passwords(statement.text)
        if not spans:
            return statement
        if type(statement.node).__name__ not in _ROLE_STATEMENTS:
            raise InputError(
                "sets a password where a script could only write it in clear",
                path=statement.path, line=statement.line,
                hint="set it in a CREATE ROLE or ALTER ROLE statement of its own (the script "
                     "then asks for it with psql -v), or apply this migration with pgshift")
        names = [SECRET_VARIABLE.format(len(self.variables) + n) for n in range(1, len(spans) + 1)]
        self.variables += names
        text = statement.text
        for (start, end), name in reversed(list(zip(spans, names, strict=True))):
            text = f"{text[:start]}:'{name}'{text[end:]}"
        return Statement(text, statement.line, statement.path, statement.offset)

    def _statements(self, statements: Sequence[Statement]) -> None:
        for statement in statements:
            if not statement.text.strip():
                continue
            text = statement.text.rstrip()
            ends_in_comment = "--" in text.rsplit("\n", 1)[-1]
            self.emit(_comment(f"{statement.path.name}:{statement.line}"),
                      text + ("\n;" if ends_in_comment else ";"))


def _comment(text: str) -> str:
    """An SQL comment line: a line break in a name (a database's, a file's) would end it, and
    psql would run the rest."""
    return "-- " + " ".join(text.splitlines())
