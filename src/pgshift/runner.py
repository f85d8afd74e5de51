"""Runs migrations: one transaction per migration with its history row, timeouts and retries.

A transactional migration's statements, and the INSERT or DELETE of its history row, run in one
transaction: it is applied exactly when its row says so. A ``no-transaction`` migration runs
statement by statement in autocommit; its row is written as ``running`` first and counts the
statements done, so an interrupted run is visible and the next run resumes after them. There, a
statement marked ``-- pgshift:backfill`` runs in batches (``pgshift.backfill.migration``) and
resumes from its own checkpoint (``pgshift.no_transaction``).

Quick transactional migrations in a row are sent as chains, several to a string, each still its
own transaction with its own history row (``pgshift.chains``, ``pgshift.round_trip.Chain``).

Every statement runs under ``lock_timeout``. A lock timeout rolls the migration back and retries
it with exponential backoff and jitter, so the app's queries never queue behind us for long.
``statement_timeout`` and the per-migration budget (``timeout``, ``pgshift.budget``) cancel and
roll back; ``pgshift.failures`` says which migration, statement and line failed, and how.

What every way of running shares on the connection (sending statements, naming the session,
history rows, undoing a migration's session settings) is ``pgshift.run_session``.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Mapping, Sequence
from functools import partial
from typing import TYPE_CHECKING, Any

from pgshift.budget import Budget, Limits
from pgshift.chains import ChainRuns
from pgshift.errors import InputError
from pgshift.failures import MarkerGone, StatementError, describe_failure
from pgshift.migrations.bodies import Direction, body_statements, session_settings_of
from pgshift.migrations.statements import Statement
from pgshift.no_transaction import NoTransactionRuns
from pgshift.round_trip import RoundTrip, create_marker
from pgshift.run_session import (
    DURATION_SQL,
    EventHandler,
    Outcome,
    after_sql,
    local_reset,
    own_settings_sql,
)
from pgshift.state import history

if TYPE_CHECKING:
    from pathlib import Path

    from psycopg2.extensions import connection as Connection

    from pgshift.callbacks import Callbacks
    from pgshift.config import Settings
    from pgshift.migrations.model import Migration

# Quick migrations in a row are sent as chains of up to CHAIN_MAX (see pgshift.chains).
CHAIN_MAX = 16
CHAIN_QUICK = 0.02  # seconds per migration: a round trip quicker than this lengthens the chain


def refuse_no_transaction(migrations: Sequence[Migration]) -> None:
    """InputError for the first no-transaction migration of ``migrations``, which
    ``--single-transaction`` cannot run: said before anything runs (the callbacks included)."""
    for migration in migrations:
        if not migration.transactional:
            raise InputError(
                "cannot run a no-transaction migration with --single-transaction",
                path=migration.path,
                migration=migration.label,
                hint="run it without --single-transaction, or run 'up --to' the version "
                     "before it with --single-transaction first",
            )


class Runner(ChainRuns, NoTransactionRuns):
    """Runs migrations on one connection (autocommit; transactions are explicit)."""

    def __init__(
        self, conn: Connection, settings: Settings, on_event: EventHandler | None = None,
        callbacks: Callbacks | None = None, check_held: Callable[[], None] | None = None,
    ) -> None:
        self.conn = conn
        # Asked before each migration (or chain): LockBusyError once pgshift's lock is lost.
        self.check_held = check_held or (lambda: None)
        self.settings = settings
        self.on_event = on_event or (lambda *_: None)
        self.callbacks = callbacks  # beforeEach…/afterEach… files run inside each migration
        self.budget = Budget(conn)
        self._marker: bool | None = None  # see pgshift.round_trip; made on first need
        self._session_limits: Limits | None = None  # the timeouts SET on the session
        self._serial = 0
        self._chain = 1  # how many migrations the next chain may hold
        self.pid = conn.get_backend_pid()  # in 'start' events: 'pgshift ps' and blocker watches
        self.after_sql = after_sql(conn)
        conn.autocommit = True
        with conn.cursor() as cur:
            cur.execute(own_settings_sql(conn.server_version))

    # -- public -------------------------------------------------------------------------------

    def apply(self, migration: Migration, entry: history.HistoryEntry | None, *,
              tried: int = 0) -> Outcome:
        """Apply one migration; ``tried``: attempts already made (and lost to a lock timeout)."""
        return self._one(migration, entry, "up", tried)

    def revert(self, migration: Migration, entry: history.HistoryEntry | None, *,
               tried: int = 0) -> Outcome:
        return self._one(migration, entry, "down", tried)

    def apply_all(self, migrations: Sequence[Migration],
                  entries: Mapping[Path, history.HistoryEntry | None]) -> list[Outcome]:
        """``apply`` each of ``migrations`` in order (``entries``: their history rows by path),
        quick ones chained (``pgshift.chains``)."""
        return self._all(migrations, entries, "up")

    def revert_all(self, migrations: Sequence[Migration],
                   entries: Mapping[Path, history.HistoryEntry | None]) -> list[Outcome]:
        return self._all(migrations, entries, "down")

    def apply_together(self, migrations: Sequence[Migration]) -> list[Outcome]:
        """All of ``migrations`` in one transaction (``--single-transaction``)."""
        refuse_no_transaction(migrations)
        batch = []
        for migration in migrations:
            record = self._record(migration, "applied", DURATION_SQL)
            batch.append((migration, self._around(body_statements(migration, "up"), "up"), record))
        try:
            return self._run_in_transaction(batch, "up") if batch else []
        finally:
            self._reset_session([name for migration in migrations
                                 for name in session_settings_of(migration, "up")])

    def _one(self, migration: Migration, entry: history.HistoryEntry | None,
             direction: Direction, tried: int) -> Outcome:
        self.check_held()
        statements = self._around(body_statements(migration, direction), direction)
        try:
            if not migration.transactional_in(direction):
                return self._run_steps(migration, statements, direction, entry)
            record = self._record_of(migration, direction, entry)
            return self._run_in_transaction([(migration, statements, record)], direction,
                                            tried)[0]
        finally:
            self._reset_session(session_settings_of(migration, direction)
                                + self._callback_settings(direction))

    # -- in order, chained where they can be ---------------------------------------------------

    def _all(self, migrations: Sequence[Migration],
             entries: Mapping[Path, history.HistoryEntry | None],
             direction: Direction) -> list[Outcome]:
        outcomes: list[Outcome] = []
        tried = 0
        while len(outcomes) < len(migrations):
            group = self._chainable(migrations[len(outcomes):], direction)
            started = time.perf_counter()
            if len(group) > 1:
                done, tried = self._run_chain(group, entries, direction)
                outcomes += done
                if len(done) < len(group):  # the next one runs again, alone
                    self._chain = 1
                    continue
            else:
                outcomes.append(self._one(group[0], entries.get(group[0].path), direction, tried))
                tried = 0
            quick = time.perf_counter() - started < CHAIN_QUICK * len(group)
            self._chain = min(2 * self._chain, CHAIN_MAX) if quick else 1
        return outcomes

    # -- transactional ------------------------------------------------------------------------

    def _run_in_transaction(
        self, batch: list[tuple[Migration, list[Statement], str]], direction: Direction,
        tried: int = 0,
    ) -> list[Outcome]:
        # Each migration runs under its own limits, in one transaction too: the budget is theirs
        # together (a batch is retried as a whole).
        budget = self.budget
        budget.start(sum(Limits.of(migration, self.settings).budget for migration, _, _ in batch))
        attempt = tried
        while True:
            attempt += 1
            for migration, _, _ in batch:
                self.on_event(
                    "start",
                    migration,
                    {"direction": direction, "attempt": attempt, "pid": self.pid},
                )
            started = time.perf_counter()
            try:
                with budget.armed(), self.conn.cursor() as cur:
                    outcomes = self._run_batch(cur, batch, direction, attempt)
            except MarkerGone:  # rolled back; again, one statement per round trip
                self._session_limits = None
                continue
            except StatementError as failure:
                self._session_limits = None
                self._rollback()
                exc = failure.cause
                limits = Limits.of(failure.migration, self.settings)
                if self._waited_to_retry(exc, failure.migration, attempt, budget, limits):
                    continue
                error = describe_failure(failure, limits, budget, attempt)
                if direction == "up":
                    self._record_failure(failure.migration, error)
                raise error from exc
            except BaseException:
                self._session_limits = None
                self._rollback()
                raise
            total = (time.perf_counter() - started) * 1000
            for outcome in outcomes:
                self.on_event(
                    "done",
                    outcome.migration,
                    {"direction": direction, "duration_ms": outcome.duration_ms, "total_ms": total},
                )
            return outcomes

    def _run_batch(
        self,
        cur: Any,
        batch: list[tuple[Migration, list[Statement], str]],
        direction: Direction,
        attempt: int,
    ) -> list[Outcome]:
        """One transaction, one round trip per migration (see ``pgshift.round_trip``): BEGIN
        rides with the first, each migration's timeouts before its statements, its history row
        after them, the COMMIT with the last."""
        prefix = "BEGIN;"
        limits = self._session_limits
        if self._marker is None and any(len(statements) > 1 for _, statements, _ in batch):
            # Before 13, statement_timeout covered a whole string rather than each statement.
            self._marker = self.conn.server_version >= 130000 and create_marker(cur)
        outcomes = []
        last = len(batch) - 1
        for index, (migration, statements, record) in enumerate(batch):
            t0 = time.perf_counter()
            # Timeouts are session settings, sent only when they change: most migrations share
            # them. (A local_reset sets the ones before again.)
            own = Limits.of(migration, self.settings)
            prefix += ("" if own == limits else own.set_sql("SESSION") + ";") + self._tag(
                migration, direction, "LOCAL")
            limits = own
            suffix = record + (";COMMIT" + self.after_sql if index == last else
                               local_reset(migration, direction, own,
                                           self.conn.server_version) + self.after_sql)
            if not statements:  # a down part that is only a comment
                statements = [Statement("", 1, migration.path)]
            if len(statements) == 1 or self._marker:
                self._serial += 1
                name = partial(self._app_name, migration, direction)
                trip = RoundTrip.join(prefix, statements, suffix, self._serial, name)
                self._send(cur, migration, trip)
            else:  # no marker to tell which statement failed: one round trip each
                *head, tail = statements
                for statement in head:
                    self._execute(cur, migration, statement, prefix)
                    prefix = ""
                self._execute(cur, migration, tail, prefix, "\n;" + suffix)
            prefix = ""
            outcomes.append(
                Outcome(migration, direction, (time.perf_counter() - t0) * 1000, attempt)
            )
        self._session_limits = limits  # committed; a rollback would have undone the SETs
        return outcomes

