"""Chains: quick transactional migrations in a row sent several to a round trip, each still
its own transaction with its history row (``pgshift.round_trip.Chain``). After a failure the
history tells which of them committed; the one that failed is reported, retried or timed out
as if it ran alone.
"""

from __future__ import annotations

import time
from collections.abc import Mapping, Sequence
from functools import partial
from typing import TYPE_CHECKING, Any

import psycopg2
import psycopg2.errors

from pgshift.budget import Limits
from pgshift.failures import StatementError, describe_failure, refuse_lost_lock
from pgshift.migrations.bodies import session_settings_of
from pgshift.round_trip import MARKER_NAME, Chain, RoundTrip, create_marker
from pgshift.run_session import STARTED_SETTING, Outcome, RunSession
from pgshift.state import history

if TYPE_CHECKING:
    from pathlib import Path

    from pgshift.migrations.bodies import Direction
    from pgshift.migrations.model import Migration


class ChainRuns(RunSession):
    """Running a group of migrations as one chain (``Runner._all`` picks the groups)."""

    _chain: int  # how many migrations the next chain may hold

    def _chainable(self, migrations: Sequence[Migration], direction: Direction
                   ) -> list[Migration]:
        """The migrations at the head of ``migrations`` to send as one chain (see
        ``pgshift.round_trip.Chain``): as many as the chain's length, which doubles after each
        round trip that took under ``runner.CHAIN_QUICK`` per migration and falls back to 1
        after any slower one, so a migration that takes time runs alone. They must be
        transactional, share their timeouts, and each be able to tell which of its statements
        failed."""
        first = migrations[0]
        if (self._chain == 1 or not first.transactional_in(direction)
                or session_settings_of(first, direction) or self._callback_settings(direction)):
            return [first]
        limits = Limits.of(first, self.settings)
        group = []
        for migration in migrations[:self._chain]:
            if not migration.transactional_in(direction) or Limits.of(
                    migration, self.settings) != limits or (
                    session_settings_of(migration, direction)):  # runs alone, then is undone
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
                          f"set_config('{STARTED_SETTING}', clock_timestamp()::text, true);")
                record = self._record_of(migration, direction, entry, chained=True)
            trips.append(RoundTrip.join(
                prefix, self._statements(migration, direction), record + ";COMMIT" + self.after_sql,
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
        if self._waited_to_retry(exc, failed, 1, self.budget, limits):
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

