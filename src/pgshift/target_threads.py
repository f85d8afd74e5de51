"""The threads that migrate targets in parallel, and how Ctrl-C or SIGTERM reaches them.

A signal reaches the main thread only, where ``pgshift.db``'s wait callback cancels the running
statement on the server; a worker thread running a target is told to do the same through that
callback, so that ``up_all`` (``pgshift.targets``) stops every target as one database stops.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from typing import TYPE_CHECKING, Any, TypeVar

from pgshift.errors import ConfigError

if TYPE_CHECKING:
    from pgshift.targets_config import Target

T = TypeVar("T")


def map_targets(function: Callable[[Target], T], targets: list[Target], parallel: int, *,
                on_interrupt: Callable[[], None] | None = None) -> list[T | None]:
    """``function`` on every target, ``parallel`` at a time, in target order. On Ctrl-C:
    without ``on_interrupt``, leave at once; with it, call it, start no other target (its
    result is None) and wait for the running ones. A second Ctrl-C leaves at once."""
    if parallel < 1:
        raise ConfigError(f"--parallel must be at least 1, not {parallel}")
    pool = ThreadPoolExecutor(max_workers=min(parallel, max(1, len(targets))),
                              thread_name_prefix="pgshift-target")
    try:
        futures = [pool.submit(function, target) for target in targets]
        try:
            return [future.result() for future in futures]
        except KeyboardInterrupt:
            if on_interrupt is None:
                raise
            for future in futures:
                future.cancel()
            on_interrupt()
            return [None if future.cancelled() else future.result() for future in futures]
    finally:
        pool.shutdown(wait=False, cancel_futures=True)


class RunningTargets:
    """The threads running a target now; ``interrupt`` has each cancel its statement."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._threads: set[int] = set()
        self.interrupted = False

    def enter(self, stop: threading.Event) -> bool:
        with self._lock:
            if stop.is_set():
                return False
            self._threads.add(threading.get_ident())
            return True

    def leave(self) -> None:
        with self._lock:
            self._threads.discard(threading.get_ident())
            _TO_INTERRUPT.discard(threading.get_ident())

    def interrupt(self) -> None:
        with self._lock:
            self.interrupted = True
            _TO_INTERRUPT.update(self._threads)


# The threads whose next wait for the server is interrupted, once: a signal reaches only the
# main thread, and the worker threads' statements must be cancelled as the main thread's are.
_TO_INTERRUPT: set[int] = set()


@contextmanager
def waiting_interruptibly() -> Iterator[None]:
    """psycopg2's wait callback is the process's: ``_fleet_wait`` while targets run."""
    import psycopg2.extensions

    before = psycopg2.extensions.get_wait_callback()
    psycopg2.extensions.set_wait_callback(_fleet_wait)
    try:
        yield
    finally:
        psycopg2.extensions.set_wait_callback(before)


def _fleet_wait(conn: Any) -> None:
    """``pgshift.db``'s wait callback, and one thing more: a worker thread in
    ``_TO_INTERRUPT`` acts as if Ctrl-C had reached it (once): it cancels its statement on the
    server and raises KeyboardInterrupt."""
    from pgshift.db import _interruptible_wait

    _interruptible_wait(conn, _interrupted_here)


def _interrupted_here() -> bool:
    """Whether this worker thread is to stop (asked once: it stops then)."""
    me = threading.get_ident()
    if me in _TO_INTERRUPT:
        _TO_INTERRUPT.discard(me)
        return True
    return False
