"""A run that changes the database: ``up`` and ``down`` once they have selected what to run
(``run_up``, ``run_down``), the checks before it, and what it holds around its ``Runner``:
pgshift's advisory lock on a connection of its own (``lock_connection``, ``locked``), the
directory's callbacks (``directory_callbacks``) and the run log (``recorded_run``).

``pgshift.api`` reads and selects; with nothing to do it returns before it imports this
module, which a no-op ``up`` and ``status`` then never load. ``baseline`` and ``repair`` take
the lock here too.
"""

from __future__ import annotations

import contextlib
import os
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from typing import TYPE_CHECKING

from pgshift.api import RunResult, _read_plan
from pgshift.errors import DatabaseConnectionError, LockBusyError
from pgshift.phases import check_usage
from pgshift.preflight import check_runnable, lint_gate
from pgshift.state import upgrades

if TYPE_CHECKING:
    from pathlib import Path

    from psycopg2.extensions import connection as Connection

    from pgshift.callbacks import Callbacks
    from pgshift.config import Settings
    from pgshift.db import BackgroundConnect
    from pgshift.migrations.model import Migration
    from pgshift.plan import Plan
    from pgshift.runner import Direction, EventHandler, Outcome, Runner
    from pgshift.state.history import HistoryEntry
    from pgshift.state.lock import LockHolder

def run_up(
    conn: Connection, settings: Settings, migrations: Sequence[Migration], plan: Plan,
    selected: list[Migration], reselect: Callable[[Plan], list[Migration]], *,
    dry_run: bool, on_event: EventHandler | None,
    on_lock_wait: Callable[[LockHolder | None], None] | None,
) -> RunResult:
    """``up`` of ``selected`` (from ``plan``, the history read on ``conn``): every check the
    run passes, then (unless ``dry_run``) the run under the lock, of what ``reselect`` picks
    from the history read again there."""
    with contextlib.ExitStack() as later:
        # The lock's connection opens while the checks below run.
        opening = None if dry_run else later.enter_context(lock_connection(settings))
        from pgshift.migrations.split_memo import remembering

        with remembering(settings.cache_dir):
            check_runnable(selected)
        if settings.single_transaction:
            from pgshift.runner import refuse_no_transaction

            refuse_no_transaction(selected)
        hooks = directory_callbacks(settings)
        if not dry_run:  # a dry run may preview a standby's plan
            from pgshift.preflight import check_writable

            check_writable(conn, settings)  # a standby, read-only or unprivileged: first
        # A dry run passes the same safety verdicts as the run would: lint, columns in use.
        lint_gate(settings, conn, selected, [i.migration for i in plan.applied() if i.migration])
        if not settings.unsafe:
            check_usage(conn, selected)
        if dry_run:
            return RunResult(plan, selected=selected, dry_run=True)

        with locked(settings, on_lock_wait, opening) as check_held:
            upgrades.install(conn, settings.schema)
            plan = _read_plan(conn, settings, migrations)  # another runner may have moved on
            selected = reselect(plan)
            if not selected:  # that runner applied them
                return RunResult(plan)
            outcomes = recorded_run(
                conn, settings, plan, "up", on_event, hooks,
                lambda runner, entries: runner.apply_together(selected)
                if settings.single_transaction else runner.apply_all(selected, entries),
                check_held)
            return RunResult(_read_plan(conn, settings, migrations), outcomes, selected)


def run_down(
    conn: Connection, settings: Settings, migrations: Sequence[Migration],
    selected: list[Migration], reselect: Callable[[Plan], list[Migration]], *,
    confirmed: Sequence[str] | None, on_event: EventHandler | None,
    on_lock_wait: Callable[[LockHolder | None], None] | None,
) -> RunResult:
    """``down`` of ``selected``: the checks, then the run under the lock, of what ``reselect``
    picks from the history read again there (refused unless it is what was ``confirmed``)."""
    with lock_connection(settings) as opening:  # opens during the checks
        from pgshift.migrations.split_memo import remembering
        from pgshift.preflight import check_writable
        from pgshift.runner import body_statements

        with remembering(settings.cache_dir):  # and a down part that cannot parse stops here
            for migration in selected:
                body_statements(migration, "down")
        check_writable(conn, settings)  # as for up: a standby, read-only or unprivileged
        hooks = directory_callbacks(settings)
        with locked(settings, on_lock_wait, opening) as check_held:
            upgrades.install(conn, settings.schema)  # the run log may be newer than the history
            plan = _read_plan(conn, settings, migrations)
            selected = reselect(plan)
            if confirmed is not None and [m.name for m in selected] != list(confirmed):
                raise LockBusyError(
                    "another runner changed what is applied while this one waited for the "
                    f"lock: {', '.join(m.label for m in selected) or 'nothing'} would be rolled "
                    f"back, not the {', '.join(confirmed)} confirmed; nothing was rolled back",
                    hint="look at the new plan: run the rollback again")
            if not selected:  # another runner rolled them back
                return RunResult(plan)
            outcomes = recorded_run(conn, settings, plan, "down", on_event, hooks,
                                    lambda runner, entries: runner.revert_all(selected, entries),
                                    check_held)
            return RunResult(_read_plan(conn, settings, migrations), outcomes, selected)


# How every callback file's name, and the callbacks folder's, begin (a test holds this to
# pgshift.callbacks' EVENTS and FOLDER).
CALLBACK_NAME_STARTS = ("before", "after", "callbacks")


def directory_callbacks(settings: Settings) -> Callbacks | None:
    """The directory's callbacks, None if it has none (as most have: a glance at the names
    then spares every run the callbacks module and a second listing of the directory)."""
    try:
        with os.scandir(settings.dir) as entries:
            if not any(e.name.startswith(CALLBACK_NAME_STARTS) for e in entries):
                return None
    except OSError:
        pass  # load_callbacks says what is wrong
    from pgshift.callbacks import load_callbacks

    return load_callbacks(settings.dir, settings.placeholders)


@contextmanager
def lock_connection(settings: Settings) -> Iterator[BackgroundConnect]:
    """The lock's connection, opening in the background from now on (see ``locked``)."""
    from pgshift.db import BackgroundConnect

    opening = BackgroundConnect(settings, application_name=f"{settings.application_name} lock")
    try:
        yield opening
    finally:
        opening.close()


@contextmanager
def locked(
    settings: Settings, on_wait: Callable[[LockHolder | None], None] | None,
    opening: BackgroundConnect | None = None,
) -> Iterator[Callable[[], None]]:
    """pgshift's advisory lock, on a connection of its own that never opens a transaction
    (``opening``'s, when the caller started opening it earlier). The block gets a check that
    raises LockBusyError once the lock is lost."""
    from pgshift.state.lock import advisory_lock

    with contextlib.ExitStack() as stack:
        if opening is None:
            opening = stack.enter_context(lock_connection(settings))
        try:
            conn = opening.result()
        except DatabaseConnectionError as exc:  # the first connection did open
            raise DatabaseConnectionError(
                f"{exc.message} (opening the migration lock's own connection)",
                hint="pgshift needs two connections to run: one for the migrations and one "
                "that holds its lock; raise the role's CONNECTION LIMIT or free a slot",
            ) from None
        from pgshift.preflight import refuse_transaction_pooling

        refuse_transaction_pooling(conn, settings)  # before the lock: none left stranded
        with advisory_lock(conn, settings.lock_key, wait=settings.lock_wait,
                           on_wait=on_wait) as check_held:
            yield check_held


def recorded_run(
    conn: Connection, settings: Settings, plan: Plan, direction: Direction,
    on_event: EventHandler | None, hooks: Callbacks | None,
    run: Callable[[Runner, dict[Path, HistoryEntry | None]], list[Outcome]],
    check_held: Callable[[], None] | None = None,
) -> list[Outcome]:
    """``run`` the migrations (under the lock) between the run's callbacks, recorded in the run
    log (``pgshift.state.runs``)."""
    from pgshift.runner import Runner
    from pgshift.state.runs import recording

    with recording(conn, settings.schema, direction) as recorder:
        runner = Runner(conn, settings, recorder.watching(on_event), callbacks=hooks,
                        check_held=check_held)
        entries = {i.migration.path: i.entry for i in plan.items if i.migration}
        if hooks is not None:
            hooks.run_around(conn, settings, direction, after=False)
        outcomes = run(runner, entries)
        if hooks is not None:
            hooks.run_around(conn, settings, direction, after=True)
    return outcomes
