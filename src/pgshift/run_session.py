"""What every way of running a migration does on the Runner's connection: send its
statements and tell which one failed (``StatementError``), name the session after it
(``application_name``), write its history row (a failed one's too), back off after a lock
timeout, and undo what it set for the session before the next one.

``RunSession`` holds these; ``pgshift.chains``, ``pgshift.no_transaction`` and the Runner
(``pgshift.runner``), which sets up the connection and the state below, build on it.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import psycopg2.errors
from psycopg2 import sql

from pgshift.db import SERVER_KEEPALIVE_SQL
from pgshift.failures import MarkerGone, StatementError, first_line, refuse_lost_lock
from pgshift.migrations.bodies import Direction, body_statements, session_settings_of
from pgshift.migrations.statements import Statement
from pgshift.round_trip import MARKER_NAME, RoundTrip
from pgshift.state import history

if TYPE_CHECKING:
    from psycopg2.extensions import connection as Connection

    from pgshift.budget import Budget, Limits
    from pgshift.callbacks import Callbacks
    from pgshift.config import Settings
    from pgshift.errors import MigrationFailedError
    from pgshift.migrations.model import Migration

EventHandler = Callable[[str, "Migration", dict[str, Any]], None]
BACKOFF_BASE = 0.2
BACKOFF_CAP = 10.0

# pgshift's own settings for the Runner's session, SET once when it starts and again after
# whatever a migration reset. A killed runner's backend would otherwise run its statement to
# the end, holding the migration's locks, before noticing that nobody is there to COMMIT (14
# and later); a frozen host's session is probed until it ends (see pgshift.db). A lock
# retry's backoff idles the session: a server's or role's idle_session_timeout must not end
# it. pgshift's own limits bound each migration: a server's or role's transaction_timeout
# (17 and later) would end the session of one that takes longer, as a FATAL.
def own_settings_sql(server_version: int) -> str:
    """The statements that give the session pgshift's own settings (no plan: utility only)."""
    return SERVER_KEEPALIVE_SQL + (
        ";SET client_connection_check_interval = 1000" if server_version >= 140000 else ""
    ) + _own_timeouts_sql(server_version)


def _own_timeouts_sql(server_version: int) -> str:
    return (";SET idle_session_timeout = 0" if server_version >= 140000 else "") + (
        ";SET transaction_timeout = 0" if server_version >= 170000 else "")


# After every migration, whatever it ran: a function it calls may set search_path, the role,
# session_replication_role or pgshift's own timeouts for the session (set_config(..., false)
# in its body), which no reading of the migration's own text finds: the next migration's
# objects would land in another schema or belong to another role, its triggers and foreign
# keys would not fire, or an idle_session_timeout would end the session in a lock retry's
# backoff. (RESET restores the value the session started with, the URL's options included:
# pgshift's timeouts are SET again instead.) Only a superuser may set session_replication_role
# (short of a GRANT SET on it, PostgreSQL 15+, which is left alone), and may RESET it: for
# others it stays as the session began.
def after_sql(conn: Connection) -> str:
    """The statements sent after each migration's COMMIT (utility statements: no plan)."""
    superuser = conn.get_parameter_status("is_superuser") == "on"  # known: no round trip
    return ";RESET search_path;RESET ROLE" + (
        ";RESET session_replication_role" if superuser else "") + _own_timeouts_sql(
        conn.server_version)

# now() is the transaction start: the row records how long the migration's transaction ran.
DURATION_SQL = "(extract(epoch FROM clock_timestamp() - now()) * 1000)::bigint"
# In a chain, now() is when the whole string arrived: each later migration notes its own start,
# which its row records as its applied_at and measures its duration from.
STARTED_SETTING = "pgshift.started"
CHAINED_START_SQL = (
    f"coalesce(nullif(current_setting('{STARTED_SETTING}', true), '')::timestamptz, now())")
CHAINED_DURATION_SQL = (
    f"(extract(epoch FROM clock_timestamp() - {CHAINED_START_SQL}) * 1000)::bigint")


@dataclass(frozen=True)
class Outcome:
    """A migration that ran to the end (up or down)."""

    migration: Migration
    direction: Direction
    duration_ms: float
    attempts: int


def local_reset(migration: Migration, direction: Direction, limits: Limits,
                server_version: int) -> str:
    """What undoes the migration's settings before the next migration of the same transaction
    (``--single-transaction``): its ``SET LOCAL``s (a baseline's empty search_path, say, would
    otherwise hide every table from the migrations after it) and its plain ``SET``s, which
    would otherwise last to the end of the run (a lock_timeout of a minute for every migration
    after it). What a migration leaves in the session besides settings (a temporary table) is
    undone after the transaction. pgshift's own settings, which that resets too, are set
    again."""
    from pgshift.migrations.statements import local_reset_sql, local_settings, reset_sql

    names = local_settings(body_statements(migration, direction))
    session = [name for name in session_settings_of(migration, direction)
               if not name.startswith("(")]  # DISCARD TEMP here would drop the marker
    if not names and not session:
        return ""
    undo = [local_reset_sql(names)] if names else []
    if session:
        undo += [reset_sql(session), own_settings_sql(server_version)]
    return f";{';'.join(undo)};{limits.set_sql('SESSION')}"


class RunSession:
    """The Runner's connection and what it knows of its session (set up by ``Runner``)."""

    conn: Connection
    settings: Settings
    on_event: EventHandler
    callbacks: Callbacks | None  # beforeEach…/afterEach… files run inside each migration
    check_held: Callable[[], None]
    budget: Budget
    pid: int
    _marker: bool | None  # see pgshift.round_trip; made on first need
    _session_limits: Limits | None  # the timeouts SET on the session
    _serial: int
    after_sql: str  # see after_sql()

    # -- statements ---------------------------------------------------------------------------

    def _around(self, statements: list[Statement], direction: Direction) -> list[Statement]:
        return self.callbacks.around(statements, direction) if self.callbacks else statements

    def _statements(self, migration: Migration, direction: Direction) -> list[Statement]:
        statements = self._around(body_statements(migration, direction), direction)
        return statements or [Statement("", 1, migration.path)]  # a down that is only a comment

    def _execute(
        self, cur: Any, migration: Migration, statement: Statement, prefix: str = "",
        suffix: str = "",
    ) -> None:
        try:
            cur.execute(prefix + statement.text + suffix)
        except psycopg2.Error as exc:
            refuse_lost_lock(exc, migration, self.settings.schema)
            raise StatementError(exc, migration, statement, len(prefix)) from exc

    def _send(self, cur: Any, migration: Migration, trip: RoundTrip) -> None:
        try:
            cur.execute(trip.text)
        except psycopg2.Error as exc:
            refuse_lost_lock(exc, migration, self.settings.schema)
            self._rollback()  # the marker is read outside the failed transaction
            if MARKER_NAME in str(exc):  # dropped (DISCARD TEMP), or out of reach
                self._marker = False
                raise MarkerGone from None
            statement, start = trip.locate(exc, cur)
            raise StatementError(exc, migration, statement, start) from exc

    def _tag(self, migration: Migration, direction: Direction, scope: str) -> str:
        """``SET application_name`` to name the migration (see ``_app_name``)."""
        return f"SET {scope} application_name = {self._app_name(migration, direction)};"

    def _app_name(self, migration: Migration, direction: Direction, statement: int = 1) -> str:
        """'<app> up V003__x.sql', or '<app> up #2 V003__x.sql' from its second statement on,
        quoted: 'pgshift ps' reads it (the number before the name, which the 63-byte limit may
        cut)."""
        number = f"#{statement} " if statement > 1 else ""
        name = f"{self.settings.application_name} {direction} {number}{migration.name}"
        return sql.Literal(name).as_string(self.conn)

    def _backoff(self, attempt: int, budget: Budget) -> float | None:
        """Exponential backoff with full jitter; None when the budget has no room for it."""
        import random  # only after a lock timeout

        wait = random.uniform(0.5, 1.0) * min(BACKOFF_CAP, BACKOFF_BASE * 2 ** (attempt - 1))
        return wait if wait < budget.remaining() - 0.05 else None

    def _waited_to_retry(self, exc: BaseException, migration: Migration, attempt: int,
                         budget: Budget, limits: Limits) -> bool:
        """After a lock timeout with tries and time left: say so, back off, and return True
        (the caller tries again). Any other failure, or none left: False."""
        if not (isinstance(exc, psycopg2.errors.LockNotAvailable) and attempt <= limits.retries):
            return False
        wait = self._backoff(attempt, budget)
        if wait is None:
            return False
        self.on_event("retry", migration, {"attempt": attempt, "wait": wait,
                                           "error": first_line(exc)})
        time.sleep(wait)
        return True

    def _rollback(self) -> None:
        if self.conn.closed:
            return
        try:
            with self.conn.cursor() as cur:
                cur.execute("ROLLBACK")
        except psycopg2.Error:
            pass

    # -- session resets -----------------------------------------------------------------------

    def _callback_settings(self, direction: Direction) -> tuple[str, ...]:
        """What the beforeEach…/afterEach… callbacks around each migration leave in the
        session: undone after each migration, as the migration's own."""
        return self.callbacks.session_settings(direction) if self.callbacks else ()

    def _reset_session(self, names: Sequence[str]) -> None:
        """Undo what a migration SET for the whole session (``SET x``, not ``SET LOCAL x``):
        its settings would reach pgshift's own statements (a DateStyle psycopg2 cannot read,
        a statement_timeout of 1 ms, another role) and every later migration, whose timeouts
        pgshift then sets again."""
        if not names or self.conn.closed or (
                self.conn.get_transaction_status() != psycopg2.extensions.TRANSACTION_STATUS_IDLE):
            return  # nothing to undo; or the run is ending anyway
        from pgshift.migrations.statements import reset_sql

        self._session_limits = None
        if "(temporary objects)" in names:
            self._marker = None  # DISCARD TEMP drops it (see pgshift.round_trip)
        with self.conn.cursor() as cur:  # RESET gives the server's values, not pgshift's
            cur.execute(reset_sql(names) + ";" + own_settings_sql(self.conn.server_version))

    # -- history rows -------------------------------------------------------------------------

    def _record(
        self, migration: Migration, status: history.RowStatus, duration_sql: str,
        fresh: bool = False, applied_at_sql: str = "now()",
    ) -> str:
        return history.record_sql(
            self.conn, self.settings.schema, migration, status, duration_sql=duration_sql,
            applied_at_sql=applied_at_sql, guarded=status == "applied", fresh=fresh,
        )

    def _record_of(self, migration: Migration, direction: Direction,
                   entry: history.HistoryEntry | None, chained: bool = False) -> str:
        """The history row's INSERT (up) or DELETE (down) that commits with the migration."""
        if direction == "up":
            if chained:
                return self._record(migration, "applied", CHAINED_DURATION_SQL,
                                    fresh=entry is None, applied_at_sql=CHAINED_START_SQL)
            return self._record(migration, "applied", DURATION_SQL, fresh=entry is None)
        return history.delete_sql(self.settings.schema, history.key_of(migration)).as_string(
            self.conn)

    def _record_failure(self, migration: Migration, error: MigrationFailedError) -> None:
        from pgshift.redaction import password_of, redact

        if self.conn.closed:
            return
        message = redact(str(error), self.settings.url, password_of(self.conn))[:2000]
        repeatable = migration.kind == "repeatable"
        record = history.upsert_sql(self.settings.schema, migration, "failed",
                                    duration_sql="NULL", error=message, keep_applied=repeatable)
        if repeatable:
            record += sql.SQL(";") + history.failed_attempt_sql(
                self.settings.schema, history.key_of(migration), message)
        try:
            with self.conn.cursor() as cur:
                cur.execute(record)
        except psycopg2.Error:
            pass  # the failure itself is what we report; the row is best effort
