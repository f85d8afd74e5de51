"""No-transaction migrations: run statement by statement in autocommit. The history row is
written as ``running`` (``reverting``) first and counts the statements done, with their hash,
so that an interrupted run is visible and the next one resumes after them, unless the file
changed above where it stopped. A plain statement (``may_join_transaction``) carries that
update in its own string, and so in its own transaction: one round trip, and no crash between
the statement and its count. A statement marked ``-- pgshift:backfill`` runs in batches
(``pgshift.backfill.migration``) and resumes from its own checkpoint; a lock timeout retries
the statement alone.
"""

from __future__ import annotations

import time
from typing import TYPE_CHECKING, Any

import psycopg2
import psycopg2.errors

from pgshift.budget import Budget, Limits
from pgshift.errors import DriftError, MigrationFailedError
from pgshift.failures import StatementError, describe_failure, first_line
from pgshift.indexes import prepare_index_build
from pgshift.migrations.statements import may_join_transaction
from pgshift.run_session import Outcome, RunSession
from pgshift.state import history

if TYPE_CHECKING:
    from psycopg2.extensions import connection as Connection

    from pgshift.backfill.options import BackfillOptions
    from pgshift.migrations.bodies import Direction
    from pgshift.migrations.model import Migration
    from pgshift.migrations.statements import Statement


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


def _concurrent(statement: Statement) -> bool:
    """Whether ``statement`` may build or drop an index concurrently: only then is its syntax
    tree built (``prepare_index_build``), not for each of a data load's 20,000 INSERTs."""
    return "concurrently" in statement.text.lower()


class NoTransactionRuns(RunSession):
    """Running one no-transaction migration's statements, resuming where a run stopped."""

    def _run_steps(self, migration: Migration, statements: list[Statement],
                   direction: Direction, entry: history.HistoryEntry | None) -> Outcome:
        """Run ``statements`` one by one from where ``entry`` (its history row) says an earlier
        run stopped, counting each in the row; then mark it applied (up) or delete it (down)."""
        from pgshift.backfill.migration import marked_backfills

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
        self.budget.start(limits.budget)
        self.on_event("start", migration, {"direction": direction, "attempt": 1,
                                           "resume_at": resume, "pid": self.pid})
        started = time.perf_counter()
        with self.conn.cursor() as cur:
            cur.execute(self._tag(migration, direction, "SESSION") + history.upsert_sql(
                schema, migration, marker, duration_sql="NULL", statements_done=resume
            ).as_string(self.conn))
            cur.execute(limits.set_sql("SESSION"))
            try:
                backfills = marked_backfills(migration, direction, statements)
                progress = history.progress_sql(self.conn, schema, key)
                for index in range(resume, len(statements)):
                    statement, backfill = statements[index], backfills.get(index)
                    resuming = index == resume and entry is not None and entry.status == marker
                    history.add_done(done, statement.text)
                    recorded = progress(index + 1, done.hexdigest())
                    # A plain statement carries its progress: one round trip, and one
                    # transaction, so that no crash can fall between the two.
                    joined = backfill is None and may_join_transaction(statement.text)
                    self._run_statement(cur, migration, direction, index, statement, backfill,
                                        limits, resuming=resuming,
                                        progress=recorded if joined else None)
                    if not joined:
                        self._record_progress(cur, migration, statement, recorded)
                duration = (time.perf_counter() - started) * 1000
                if direction == "up":
                    cur.execute(history.upsert_sql(schema, migration, "applied",
                                                   duration_sql=f"{int(duration)}"))
                else:
                    cur.execute(history.delete_sql(schema, key))
            finally:
                if not self.conn.closed:
                    cur.execute("RESET lock_timeout; RESET statement_timeout;"
                                "RESET application_name" + self.after_sql)
        self.on_event("done", migration,
                      {"direction": direction, "duration_ms": duration, "total_ms": duration})
        return Outcome(migration, direction, duration, 1)

    def _run_statement(self, cur: Any, migration: Migration, direction: Direction, index: int,
                       statement: Statement, backfill: BackfillOptions | None, limits: Limits, *,
                       resuming: bool, progress: str | None = None) -> None:
        """Statement ``index``: in batches, each its own transaction, when it is marked
        ``-- pgshift:backfill`` (``backfill``: what the mark says), else as one step, with
        ``progress`` (the row's update) after it in the same string when given."""
        if backfill is None:
            self._run_step(cur, migration, statement, limits, self.budget, resuming=resuming,
                           progress=progress)
            return
        from pgshift.backfill.migration import run_marked

        run_marked(
            self.conn,
            self.settings.schema,
            migration,
            direction,
            index,
            statement,
            backfill,
            lock_timeout=limits.lock_timeout,
            statement_timeout=limits.statement_timeout,
            retries=limits.retries,
            on_event=self.on_event,
            resuming=resuming,
        )

    def _refuse_other_statements_done(self, migration: Migration, done: list[Statement],
                                      sha: str, key: str, direction: Direction) -> None:
        refuse_other_statements_done(self.conn, self.settings.schema, migration, done, sha,
                                     key, direction)

    def _record_progress(self, cur: Any, migration: Migration, statement: Statement,
                         progress: str) -> None:
        """The history row's count of statements done, and their hash (``progress``: the
        update), after ``statement`` ran on its own."""
        try:
            cur.execute(progress)
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
        progress: str | None = None,
    ) -> None:
        attempt = 0
        while True:
            attempt += 1
            try:
                with budget.armed():
                    if progress is not None:  # see may_join_transaction
                        self._execute(cur, migration, statement, suffix="\n;" + progress)
                        return
                    # Each failed CONCURRENTLY attempt (a lock timeout too) leaves an INVALID
                    # index. Dropping it waits for the same sessions as the build, under the
                    # same lock_timeout: its timeout is retried like the build's.
                    try:
                        if _concurrent(statement) and prepare_index_build(
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
                if self._waited_to_retry(exc, migration, attempt, budget, limits):
                    continue
                raise describe_failure(failure, limits, budget, attempt,
                                       transactional=False) from exc

