"""Runs migrations: one transaction per migration with its history row, timeouts and retries.

A transactional migration's statements, and the INSERT or DELETE of its history row, run in one
transaction: it is applied exactly when its row says so. A ``no-transaction`` migration runs
statement by statement in autocommit; its row is written as ``running`` first and counts the
statements done, so an interrupted run is visible and the next run resumes after them. There, a
statement marked ``-- pgshift:backfill`` runs in batches (``pgshift.backfill.migration``) and
resumes from its own checkpoint.

Quick transactional migrations in a row are sent as chains, several to a string, each still its
own transaction with its own history row (``Runner._chainable``, ``pgshift.round_trip.Chain``).

Every statement runs under ``lock_timeout``. A lock timeout rolls the migration back and retries
it with exponential backoff and jitter, so the app's queries never queue behind us for long.
``statement_timeout`` and the per-migration budget (``timeout``, ``pgshift.budget``) cancel and
roll back; ``pgshift.failures`` says which migration, statement and line failed, and how.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from functools import lru_cache, partial
from typing import TYPE_CHECKING, Any, Literal

import psycopg2
import psycopg2.errors
from psycopg2 import sql

from pgshift.budget import Budget, Limits
from pgshift.db import SERVER_KEEPALIVE_SQL, password_of, redact
from pgshift.errors import DriftError, InputError, MigrationFailedError
from pgshift.failures import (
    MarkerGone,
    StatementError,
    describe_failure,
    first_line,
    refuse_lost_lock,
)
from pgshift.migrations.statements import Statement, statements_of
from pgshift.round_trip import MARKER_NAME, Chain, RoundTrip, create_marker
from pgshift.state import history

if TYPE_CHECKING:
    from pathlib import Path

    from psycopg2.extensions import connection as Connection

    from pgshift.callbacks import Callbacks
    from pgshift.config import Settings
    from pgshift.migrations.model import Migration

Direction = Literal["up", "down"]
EventHandler = Callable[[str, "Migration", dict[str, Any]], None]
BACKOFF_BASE = 0.2
BACKOFF_CAP = 10.0
# Quick migrations in a row are sent as chains of up to CHAIN_MAX (see Runner._chainable).
CHAIN_MAX = 16
CHAIN_QUICK = 0.02  # seconds per migration: a round trip quicker than this lengthens the chain


@dataclass(frozen=True)
class Outcome:
    """A migration that ran to the end (up or down)."""

    migration: Migration
    direction: Direction
    duration_ms: float
    attempts: int


def body_statements(migration: Migration, direction: Direction) -> list[Statement]:
    """The statements one direction of ``migration`` runs, parsed before anything runs.

    Remembered (a failure is not): ``up`` checks every file before running any, then runs them.
    """
    return list(_body_statements(migration, direction))


@lru_cache(maxsize=4096)
def _session_settings(migration: Migration, direction: Direction) -> tuple[str, ...]:
    from pgshift.migrations.statements import session_settings

    return session_settings(body_statements(migration, direction))


def refuse_other_statements_done(conn: Connection, schema: str, migration: Migration,
                                 done: list[Statement], sha: str, key: str,
                                 direction: Direction) -> None:
    """DriftError when the statements a resumed run would count as done (whose hash is
    ``sha``) are not those that ran: the file was edited above where it stopped (an edit
    below is the fix a failed statement asks for)."""
    recorded = history.read_done_sha(conn, schema, key)
    if recorded is None or recorded == sha or not done:
        return
    raise DriftError(
        f"changed above where its interrupted {direction} stopped: its first {len(done)} "
        "statement(s) ran as they were then, and going on would skip what differs",
        path=migration.path, line=done[-1].line, migration=migration.label,
        hint="restore those statements as they ran (an edit from the statement it stopped "
             "at on is fine), let it finish, then make the change in a new migration")


def _local_reset(migration: Migration, direction: Direction, limits: Limits) -> str:
    """What undoes the migration's ``SET LOCAL``s before the next migration of the same
    transaction (``--single-transaction``): a baseline's empty search_path, say, would
    otherwise hide every table from the migrations after it. pgshift's own timeouts, which
    that resets too, are set again."""
    from pgshift.migrations.statements import local_reset_sql, local_settings

    names = local_settings(body_statements(migration, direction))
    return f";{local_reset_sql(names)};{limits.set_sql('SESSION')}" if names else ""


@lru_cache(maxsize=4096)
def _body_statements(migration: Migration, direction: Direction) -> tuple[Statement, ...]:
    if direction == "up":
        source, path, first = migration.up_sql, migration.path, 1
    else:
        if migration.down_sql is None:
            raise InputError("has no down part", path=migration.path, migration=migration.label)
        source = migration.down_sql
        path = migration.down_path or migration.path
        first = migration.down_line
    if "${" in source:  # a ${name} without a value (the module only for files that have one)
        from pgshift.placeholders import check_resolved

        check_resolved(source, path, first_line=first)
    return tuple(
        statements_of(source, path, first_line=first,
                      transactional=migration.transactional_in(direction))
    )


class Runner:
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
        conn.autocommit = True
        # A killed runner's backend would otherwise run its statement to the end, holding
        # the migration's locks, before noticing that nobody is there to COMMIT (14 and later);
        # a frozen host's session is probed until it ends (see pgshift.db).
        check = ";SET client_connection_check_interval = 1000" if (
            conn.server_version >= 140000) else ""
        with conn.cursor() as cur:
            cur.execute(SERVER_KEEPALIVE_SQL + check)

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
        quick ones chained: see ``_chainable``."""
        return self._all(migrations, entries, "up")

    def revert_all(self, migrations: Sequence[Migration],
                   entries: Mapping[Path, history.HistoryEntry | None]) -> list[Outcome]:
        return self._all(migrations, entries, "down")

    def apply_together(self, migrations: Sequence[Migration]) -> list[Outcome]:
        """All of ``migrations`` in one transaction (``--single-transaction``)."""
        batch = []
        for migration in migrations:
            if not migration.transactional:
                raise InputError(
                    "cannot run a no-transaction migration with --single-transaction",
                    path=migration.path,
                    migration=migration.label,
                )
            record = self._record(migration, "applied", _DURATION_SQL)
            batch.append((migration, self._around(body_statements(migration, "up"), "up"), record))
        try:
            return self._run_in_transaction(batch, "up") if batch else []
        finally:
            self._reset_session([name for migration in migrations
                                 for name in _session_settings(migration, "up")])

    def _around(self, statements: list[Statement], direction: Direction) -> list[Statement]:
        return self.callbacks.around(statements, direction) if self.callbacks else statements

    def _statements(self, migration: Migration, direction: Direction) -> list[Statement]:
        statements = self._around(body_statements(migration, direction), direction)
        return statements or [Statement("", 1, migration.path)]  # a down that is only a comment

    def _record_of(self, migration: Migration, direction: Direction,
                   entry: history.HistoryEntry | None, chained: bool = False) -> str:
        """The history row's INSERT (up) or DELETE (down) that commits with the migration."""
        if direction == "up":
            if chained:
                return self._record(migration, "applied", _CHAINED_DURATION_SQL,
                                    fresh=entry is None, applied_at_sql=_CHAINED_START_SQL)
            return self._record(migration, "applied", _DURATION_SQL, fresh=entry is None)
        return history.delete_sql(self.settings.schema, history.key_of(migration)).as_string(
            self.conn)

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
            self._reset_session(_session_settings(migration, direction)
                                + self._callback_settings(direction))

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
        check = ";SET client_connection_check_interval = 1000" if (
            self.conn.server_version >= 140000) else ""
        with self.conn.cursor() as cur:
            cur.execute(reset_sql(names) + ";" + SERVER_KEEPALIVE_SQL + check)

    # -- chains -------------------------------------------------------------------------------

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

    def _chainable(self, migrations: Sequence[Migration], direction: Direction
                   ) -> list[Migration]:
        """The migrations at the head of ``migrations`` to send as one chain (see
        ``pgshift.round_trip.Chain``): as many as the chain's length, which doubles after each
        round trip that took under CHAIN_QUICK per migration and falls back to 1 after any
        slower one, so a migration that takes time runs alone. They must be transactional,
        share their timeouts, and each be able to tell which of its statements failed."""
        first = migrations[0]
        if (self._chain == 1 or not first.transactional_in(direction)
                or _session_settings(first, direction) or self._callback_settings(direction)):
            return [first]
        limits = Limits.of(first, self.settings)
        group = []
        for migration in migrations[:self._chain]:
            if not migration.transactional_in(direction) or Limits.of(
                    migration, self.settings) != limits or (
                    _session_settings(migration, direction)):  # runs alone, then is undone
                break
            if len(self._statements(migration, direction)) > 1:
                if self._marker is None:
                    with self.conn.cursor() as cur:
                        self._marker = self.conn.server_version >= 130000 and create_marker(cur)
                if not self._marker:  # such a migration runs one statement per round trip
                    break
            group.append(migration)
        return group or [first]

    def _run_chain(self, group: list[Migration],
                   entries: Mapping[Path, history.HistoryEntry | None],
                   direction: Direction) -> tuple[list[Outcome], int]:
        """Run ``group`` as one chain: the outcomes of those that committed, and the attempts
        the next one made (it failed for a reason worth trying again alone)."""
        self.check_held()
        limits = Limits.of(group[0], self.settings)
        changed = "" if limits == self._session_limits else limits.set_sql("SESSION") + ";"
        trips = []
        for index, migration in enumerate(group):
            self._serial += 1
            entry = entries.get(migration.path)
            if index == 0:
                prefix = "BEGIN;" + changed + self._tag(migration, direction, "LOCAL")
                record = self._record_of(migration, direction, entry)
            else:  # now() is when the string arrived: the row's duration needs its own start
                prefix = (f"BEGIN;SELECT set_config('application_name', "
                          f"{self._app_name(migration, direction)}, true), "
                          f"set_config('{_STARTED}', clock_timestamp()::text, true);")
                record = self._record_of(migration, direction, entry, chained=True)
            trips.append(RoundTrip.join(
                prefix, self._statements(migration, direction), record + ";COMMIT" + _AFTER,
                self._serial, partial(self._app_name, migration, direction)))
        chain = Chain.of(trips)
        text = chain.text
        if direction == "up":  # the string's last result: each row's own duration
            with self.conn.cursor() as cur:
                text += ";" + cur.mogrify(history.applied_among_sql(self.settings.schema),
                                          ([history.key_of(m) for m in group],)).decode()
        self.on_event("start", group[0], {"direction": direction, "attempt": 1, "pid": self.pid})
        self.budget.start(limits.budget)
        started = time.perf_counter()
        try:
            with self.budget.armed(), self.conn.cursor() as cur:
                cur.execute(text)
                durations = dict(cur.fetchall()) if direction == "up" else {}
        except psycopg2.Error as exc:
            return self._chain_failed(exc, group, chain, limits, direction, started)
        except BaseException:
            self._session_limits = None
            self._rollback()
            raise
        self._session_limits = limits
        return self._chain_done(group, direction, started, durations), 0

    def _chain_done(self, done: list[Migration], direction: Direction, started: float,
                    durations: Mapping[str, int | None]) -> list[Outcome]:
        """Outcomes (and events) for the committed migrations of a chain. An up's duration is
        its history row's; downs leave no row, so they share the chain's time equally (their
        events say ``shared_by``)."""
        share = (time.perf_counter() - started) * 1000 / max(1, len(done))
        outcomes = []
        for index, migration in enumerate(done):
            if index:
                self.on_event("start", migration,
                              {"direction": direction, "attempt": 1, "pid": self.pid})
            own = durations.get(history.key_of(migration))
            info: dict[str, Any] = {"direction": direction,
                                    "duration_ms": share if own is None else float(own)}
            if own is None:
                info["shared_by"] = len(done)
            info["total_ms"] = info["duration_ms"]
            self.on_event("done", migration, info)
            outcomes.append(Outcome(migration, direction, info["duration_ms"], 1))
        return outcomes

    def _chain_failed(self, exc: psycopg2.Error, group: list[Migration], chain: Chain,
                      limits: Limits, direction: Direction, started: float
                      ) -> tuple[list[Outcome], int]:
        self._session_limits = None
        self._rollback()
        committed, durations = self._committed(group, direction)
        if committed == len(group):  # the error came after the last COMMIT: all are done
            return self._chain_done(group, direction, started, durations), 0
        outcomes = self._chain_done(group[:committed], direction, started, durations)
        failed = group[committed]
        if MARKER_NAME in str(exc):  # dropped (DISCARD TEMP): alone, one statement per trip
            self._marker = False
            return outcomes, 0
        if self.budget.spent() and committed:  # cut short by the chain's time, not its own
            return outcomes, 0
        if committed:  # it started in the chain: its line opens now
            self.on_event("start", failed, {"direction": direction, "attempt": 1, "pid": self.pid})
        refuse_lost_lock(exc, failed, self.settings.schema)
        if isinstance(exc, psycopg2.errors.LockNotAvailable) and limits.retries:
            wait = self._backoff(1, self.budget)
            if wait is not None:
                self.on_event("retry", failed, {"attempt": 1, "wait": wait,
                                                "error": first_line(exc)})
                time.sleep(wait)
                return outcomes, 1
        with self.conn.cursor() as cur:
            statement, start = chain.trips[committed].locate(exc, cur, chain.offsets[committed])
        failure = StatementError(exc, failed, statement, chain.offsets[committed] + start)
        error = describe_failure(failure, limits, self.budget, 1)
        if direction == "up":
            self._record_failure(failed, error)
        raise error from exc

    def _committed(self, group: list[Migration], direction: Direction
                   ) -> tuple[int, dict[str, int | None]]:
        """How many of ``group``, from its head, the history shows as done (0 when the
        connection is gone: the next run reads the history again), and the ups' durations."""
        keys = [history.key_of(m) for m in group]
        try:
            with self.conn.cursor() as cur:
                cur.execute(history.applied_among_sql(self.settings.schema), (keys,))
                applied = dict(cur.fetchall())
        except psycopg2.Error:
            return 0, {}
        count = 0
        for key in keys:
            if (key in applied) != (direction == "up"):
                break
            count += 1
        return count, applied if direction == "up" else {}

    # -- transactional ------------------------------------------------------------------------

    def _run_in_transaction(
        self, batch: list[tuple[Migration, list[Statement], str]], direction: Direction,
        tried: int = 0,
    ) -> list[Outcome]:
        first = batch[0][0]
        limits = Limits.of(first, self.settings)
        budget = self.budget
        budget.start(limits.budget * len(batch))
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
                    outcomes = self._run_batch(cur, batch, direction, attempt, limits)
            except MarkerGone:  # rolled back; again, one statement per round trip
                self._session_limits = None
                continue
            except StatementError as failure:
                self._session_limits = None
                self._rollback()
                exc = failure.cause
                if isinstance(exc, psycopg2.errors.LockNotAvailable) and attempt <= limits.retries:
                    wait = self._backoff(attempt, budget)
                    if wait is not None:
                        self.on_event(
                            "retry",
                            failure.migration,
                            {"attempt": attempt, "wait": wait, "error": first_line(exc)},
                        )
                        time.sleep(wait)
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
        limits: Limits,
    ) -> list[Outcome]:
        """One transaction, one round trip per migration (see ``pgshift.round_trip``): BEGIN
        and the timeouts ride with the first, each history row with its migration's statements,
        the COMMIT with the last."""
        # Timeouts are session settings, sent only when they change: most migrations share them.
        changed = "" if limits == self._session_limits else limits.set_sql("SESSION") + ";"
        prefix = "BEGIN;" + changed
        if self._marker is None and any(len(statements) > 1 for _, statements, _ in batch):
            # Before 13, statement_timeout covered a whole string rather than each statement.
            self._marker = self.conn.server_version >= 130000 and create_marker(cur)
        outcomes = []
        last = len(batch) - 1
        for index, (migration, statements, record) in enumerate(batch):
            t0 = time.perf_counter()
            prefix += self._tag(migration, direction, "LOCAL")
            suffix = record + (";COMMIT" + _AFTER if index == last else
                               _local_reset(migration, direction, limits) + _AFTER)
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

    # -- no-transaction -------------------------------------------------------------------------

    def _run_steps(
        self,
        migration: Migration,
        statements: list[Statement],
        direction: Direction,
        entry: history.HistoryEntry | None,
    ) -> Outcome:
        from pgshift.backfill.migration import marked_backfills, run_marked

        schema, key = self.settings.schema, history.key_of(migration)
        marker = "running" if direction == "up" else "reverting"
        resume = entry.statements_done if entry is not None and entry.status == marker else 0
        resume = min(resume, len(statements))
        done = history.done_digest([s.text for s in statements[:resume]])
        if resume:
            self._refuse_other_statements_done(migration, statements[:resume], done.hexdigest(),
                                               key, direction)
        limits = Limits.of(migration, self.settings)
        self._session_limits = None  # set for this migration's steps, then RESET
        budget = self.budget
        budget.start(limits.budget)
        self.on_event(
            "start",
            migration,
            {"direction": direction, "attempt": 1, "resume_at": resume, "pid": self.pid},
        )
        started = time.perf_counter()
        with self.conn.cursor() as cur:
            cur.execute(
                self._tag(migration, direction, "SESSION")
                + history.upsert_sql(
                    schema, migration, marker, duration_sql="NULL", statements_done=resume
                ).as_string(self.conn)
            )
            cur.execute(limits.set_sql("SESSION"))
            try:
                backfills = marked_backfills(migration, direction, statements)
                for index in range(resume, len(statements)):
                    if index in backfills:  # batched, each batch its own transaction
                        run_marked(
                            self.conn,
                            schema,
                            migration,
                            direction,
                            index,
                            statements[index],
                            backfills[index],
                            lock_timeout=limits.lock_timeout,
                            statement_timeout=limits.statement_timeout,
                            retries=limits.retries,
                            on_event=self.on_event,
                            resuming=index == resume
                            and entry is not None
                            and entry.status == marker,
                        )
                    else:
                        self._run_step(
                            cur,
                            migration,
                            statements[index],
                            limits,
                            budget,
                            resuming=index == resume
                            and entry is not None
                            and entry.status == marker,
                        )
                    history.add_done(done, statements[index].text)
                    self._record_progress(cur, migration, statements[index], index + 1,
                                          done.hexdigest())
                duration = (time.perf_counter() - started) * 1000
                if direction == "up":
                    cur.execute(
                        history.upsert_sql(
                            schema, migration, "applied", duration_sql=f"{int(duration)}"
                        )
                    )
                else:
                    cur.execute(history.delete_sql(schema, key))
            finally:
                if not self.conn.closed:
                    cur.execute(
                        "RESET lock_timeout; RESET statement_timeout;RESET application_name"
                        + _AFTER
                    )
        self.on_event(
            "done",
            migration,
            {"direction": direction, "duration_ms": duration, "total_ms": duration},
        )
        return Outcome(migration, direction, duration, 1)

    def _refuse_other_statements_done(self, migration: Migration, done: list[Statement],
                                      sha: str, key: str, direction: Direction) -> None:
        refuse_other_statements_done(self.conn, self.settings.schema, migration, done, sha,
                                     key, direction)

    def _record_progress(self, cur: Any, migration: Migration, statement: Statement,
                         done: int, sha: str) -> None:
        """The history row's count of statements done, and their hash (``sha``), after
        ``statement`` ran."""
        try:
            cur.execute(history.set_progress_sql(
                self.settings.schema, history.key_of(migration), done, sha))
        except psycopg2.Error as exc:  # the statement made the session unfit for it
            raise MigrationFailedError(
                f"after this statement pgshift could not record its progress: {first_line(exc)}",
                path=statement.path, line=statement.line, migration=migration.label,
                hint="a setting the migration made for the session (SET, SET ROLE, SET "
                     "SESSION AUTHORIZATION) stops pgshift's own bookkeeping: change it back "
                     "before the statement ends, or make it in a transactional migration with "
                     "SET LOCAL") from None

    def _run_step(
        self,
        cur: Any,
        migration: Migration,
        statement: Statement,
        limits: Limits,
        budget: Budget,
        *,
        resuming: bool,
    ) -> None:
        from pgshift.indexes import prepare_index_build

        attempt = 0
        while True:
            attempt += 1
            try:
                with budget.armed():
                    # Each failed CONCURRENTLY attempt (a lock timeout too) leaves an INVALID
                    # index. Dropping it waits for the same sessions as the build, under the
                    # same lock_timeout: its timeout is retried like the build's.
                    try:
                        if prepare_index_build(
                            cur,
                            statement,
                            resuming=resuming,
                            notify=lambda msg: self.on_event("note", migration, {"text": msg}),
                        ):
                            return
                    except psycopg2.Error as exc:
                        raise StatementError(exc, migration, statement) from exc
                    self._execute(cur, migration, statement)
                return
            except StatementError as failure:
                exc = failure.cause
                if isinstance(exc, psycopg2.errors.LockNotAvailable) and attempt <= limits.retries:
                    wait = self._backoff(attempt, budget)
                    if wait is not None:
                        self.on_event(
                            "retry",
                            migration,
                            {"attempt": attempt, "wait": wait, "error": first_line(exc)},
                        )
                        time.sleep(wait)
                        continue
                raise describe_failure(failure, limits, budget, attempt,
                                       transactional=False) from exc

    # -- helpers --------------------------------------------------------------------------------

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

    def _record(
        self, migration: Migration, status: history.RowStatus, duration_sql: str,
        fresh: bool = False, applied_at_sql: str = "now()",
    ) -> str:
        return history.record_sql(
            self.conn, self.settings.schema, migration, status, duration_sql=duration_sql,
            applied_at_sql=applied_at_sql, guarded=status == "applied", fresh=fresh,
        )

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

    def _rollback(self) -> None:
        if self.conn.closed:
            return
        try:
            with self.conn.cursor() as cur:
                cur.execute("ROLLBACK")
        except psycopg2.Error:
            pass

    def _record_failure(self, migration: Migration, error: MigrationFailedError) -> None:
        if self.conn.closed:
            return
        try:
            with self.conn.cursor() as cur:
                cur.execute(
                    history.upsert_sql(
                        self.settings.schema,
                        migration,
                        "failed",
                        duration_sql="NULL",
                        error=redact(str(error), self.settings.url,
                                     password_of(self.conn))[:2000],
                        keep_applied=migration.kind == "repeatable",
                    )
                )
        except psycopg2.Error:
            pass  # the failure itself is what we report; the row is best effort

# After every migration, whatever it ran: a function it calls may set search_path, the role
# or session_replication_role for the session (set_config(..., false) in its body), which no
# reading of the migration's own text finds: the next migration's objects would land in
# another schema or belong to another role, or its triggers and foreign keys would not fire.
# (RESET restores the value the session started with, the URL's options included. Only a
# superuser may RESET session_replication_role, so it is set back only when it differs, and
# the condition, free of columns, gates the scan of pg_settings.)
_AFTER = (";RESET search_path;RESET ROLE;SELECT set_config(name, reset_val, false) "
          "FROM pg_settings WHERE current_setting('session_replication_role') <> 'origin' "
          "AND name = 'session_replication_role'")

# now() is the transaction start: the row records how long the migration's transaction ran.
_DURATION_SQL = "(extract(epoch FROM clock_timestamp() - now()) * 1000)::bigint"
# In a chain, now() is when the whole string arrived: each later migration notes its own start,
# which its row records as its applied_at and measures its duration from.
_STARTED = "pgshift.started"
_CHAINED_START_SQL = (
    f"coalesce(nullif(current_setting('{_STARTED}', true), '')::timestamptz, now())")
_CHAINED_DURATION_SQL = (
    f"(extract(epoch FROM clock_timestamp() - {_CHAINED_START_SQL}) * 1000)::bigint")
