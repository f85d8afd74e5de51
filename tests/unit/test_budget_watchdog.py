"""The migration budget's watchdog: one thread, re-armed per migration, cancels on time."""

from __future__ import annotations

import threading
import time

from pgshift.budget import Budget


class Cancels:
    """Stands in for the connection: records when the watchdog cancelled it."""

    def __init__(self) -> None:
        self.at: list[float] = []
        self.event = threading.Event()

    def cancel(self) -> None:
        self.at.append(time.monotonic())
        self.event.set()


def test_a_short_budget_after_a_long_one_still_cancels_on_time() -> None:
    conn = Cancels()
    budget = Budget(conn)  # type: ignore[arg-type]
    budget.start(600)
    with budget.armed():
        time.sleep(0.05)  # the watcher now sleeps toward the 10-minute deadline
    budget.start(0.2)
    started = time.monotonic()
    with budget.armed():
        assert conn.event.wait(5)
    assert budget.expired and 0.15 < conn.at[0] - started < 2


def test_later_deadlines_do_not_cancel_early_and_an_idle_watch_never_cancels() -> None:
    conn = Cancels()
    budget = Budget(conn)  # type: ignore[arg-type]
    for _ in range(50):  # many quick migrations, each with its own fresh budget
        budget.start(0.3)
        with budget.armed():
            time.sleep(0.01)
    time.sleep(0.5)  # past every deadline, but disarmed
    assert conn.at == [] and not budget.expired


def test_a_statement_timeout_that_beats_the_watchdog_to_a_spent_budget_is_the_budget() -> None:
    # With no shorter statement_timeout, the server's equals the budget and may fire first.
    from pathlib import Path

    import psycopg2.errors

    from pgshift.budget import Limits
    from pgshift.errors import MigrationTimeoutError
    from pgshift.failures import StatementError, describe_failure
    from pgshift.migrations.model import Migration
    from pgshift.migrations.statements import Statement

    budget = Budget(Cancels())  # type: ignore[arg-type]
    migration = Migration(kind="versioned", version=None, description="slow",
                          path=Path("V1__slow.sql"), checksum="", up_sql="SELECT pg_sleep(9)")
    failure = StatementError(psycopg2.errors.QueryCanceled(), migration,
                             Statement("SELECT pg_sleep(9)", 1, migration.path))
    limits = Limits(lock_timeout=0.5, statement_timeout=1.0, budget=1.0, retries=0)
    budget.start(0.0)  # the deadline has passed; the watchdog has not cancelled yet
    assert budget.spent() and not budget.expired
    error = describe_failure(failure, limits, budget, 1)
    assert isinstance(error, MigrationTimeoutError) and "budget" in str(error)
    budget.start(60)  # a statement_timeout well inside the budget is the statement's own
    assert "statement cancelled" in str(describe_failure(failure, limits, budget, 1))
