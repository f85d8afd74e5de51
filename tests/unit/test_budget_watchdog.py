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
