"""A migration's time limits, and the watchdog that enforces its overall budget.

``lock_timeout`` and ``statement_timeout`` are the server's to enforce; the budget (``timeout``)
covers a whole migration, retries included, so a thread watches it and cancels the running
statement when it is spent.
"""

from __future__ import annotations

import math
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from dataclasses import dataclass
from typing import TYPE_CHECKING

import psycopg2

if TYPE_CHECKING:
    from psycopg2.extensions import connection as Connection

    from pgshift.config import Settings
    from pgshift.migrations.model import Migration


@dataclass(frozen=True)
class Limits:
    """The timeouts one migration runs under: its directives, else the run's settings."""

    lock_timeout: float
    statement_timeout: float
    budget: float
    retries: int

    @classmethod
    def of(cls, migration: Migration, settings: Settings) -> Limits:
        d = migration.directives
        budget = d.timeout if d.timeout is not None else settings.timeout
        budget = budget or math.inf  # 0 is none, as for PostgreSQL's own timeouts
        statement = (d.statement_timeout if d.statement_timeout is not None
                     else settings.statement_timeout) or budget
        return cls(
            lock_timeout=d.lock_timeout if d.lock_timeout is not None else settings.lock_timeout,
            statement_timeout=min(statement, budget),
            budget=budget,
            retries=d.lock_retries if d.lock_retries is not None else settings.lock_retries,
        )

    def set_sql(self, scope: str) -> str:
        return (
            f"SET {scope} lock_timeout = {_ms(self.lock_timeout)};"
            f"SET {scope} statement_timeout = "
            f"{0 if self.statement_timeout == math.inf else _ms(self.statement_timeout)}"
        )


def _ms(seconds: float) -> int:
    """A lock_timeout in milliseconds: 0 is none, as PostgreSQL reads it (and as the lint gate
    does); anything else at least 1 ms, which a shorter one would round down to 0."""
    return 0 if seconds == 0 else max(1, int(seconds * 1000))


class Budget:
    """Cancels the connection's running statement once the migration's budget is spent.

    One watchdog thread per runner, re-armed for each migration: starting a thread per
    migration would cost more than the migration itself for small ones.
    """

    def __init__(self, conn: Connection) -> None:
        self.conn = conn
        self.deadline = float("inf")
        self.expired = False
        self._armed = False
        self._wake = threading.Condition()
        self._thread: threading.Thread | None = None
        self._sleeping_until: float | None = None  # the watcher's timed wait ends then

    def start(self, seconds: float) -> None:
        """A new budget of ``seconds`` from now (not yet watching: see ``armed``)."""
        self.deadline = time.monotonic() + seconds
        self.expired = False

    def remaining(self) -> float:
        return self.deadline - time.monotonic()

    def spent(self) -> bool:
        """Whether the budget ran out: the watchdog cancelled, or the deadline has passed (the
        server's statement_timeout is the budget when no shorter one is set, and may fire a
        moment before the watchdog does)."""
        return self.expired or self.remaining() <= 0

    @contextmanager
    def armed(self) -> Iterator[None]:
        with self._wake:
            self._armed = True
            if self._thread is None:
                self._thread = threading.Thread(
                    target=self._watch, daemon=True, name="pgshift-budget"
                )
                self._thread.start()
            # A watcher already asleep until an earlier deadline wakes then and sleeps on to
            # this one: waking it for each migration would only make it compete for the GIL.
            if self._sleeping_until is None or self.deadline < self._sleeping_until:
                self._wake.notify()
        try:
            yield
        finally:
            with self._wake:
                self._armed = False

    def _watch(self) -> None:
        with self._wake:
            while True:
                if not self._armed:
                    self._sleeping_until = None
                    self._wake.wait()
                    continue
                left = self.deadline - time.monotonic()
                if left > 0:
                    self._sleeping_until = self.deadline
                    self._wake.wait(None if left == math.inf else left)  # no budget: no end
                    continue
                self._sleeping_until = None
                self.expired = True
                self._armed = False
                with suppress(psycopg2.Error):
                    self.conn.cancel()
