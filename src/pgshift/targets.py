"""Many targets: several databases, or one schema per tenant in one database, migrated together.

Which targets, and how each is aimed at, is the ``[targets]`` config table: see
``pgshift.targets_config``.

``up_all`` migrates every target with bounded parallelism; a failure on one does not stop the
others unless ``fail_fast`` (those not started are then ``skipped``), and a rerun picks up
where each target stopped, since each keeps its own history. Ctrl-C or SIGTERM (which reach the
main thread only) cancel the statement each running target is at, as they do for one database,
and start no other target: ``up_all`` raises ``FleetInterrupted``, which carries the results.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Literal

from pgshift.config import Settings
from pgshift.errors import ConfigError, PgshiftError
from pgshift.target_threads import RunningTargets, map_targets, waiting_interruptibly
from pgshift.targets_config import Target, resolve_targets

Status = Literal["applied", "up-to-date", "failed", "skipped"]


@dataclass(frozen=True)
class TargetResult:
    """What ``up`` did on one target."""

    target: str
    status: Status
    applied: int = 0
    error: str | None = None
    exit_code: int = 0
    duration_ms: float = 0.0


@dataclass(frozen=True)
class TargetStatus:
    """One target's line in the fleet view."""

    target: str
    applied: int = 0
    pending: int = 0
    failed: int = 0
    drift: int = 0
    head: str | None = None
    error: str | None = None


@dataclass(frozen=True)
class FleetResult:
    """Every target's result, in target order."""

    results: list[TargetResult]

    def count(self, status: Status) -> int:
        return sum(1 for r in self.results if r.status == status)

    @property
    def exit_code(self) -> int:
        """0 when no target failed, else the first failed target's exit code."""
        return next((r.exit_code for r in self.results if r.status == "failed"), 0)


# -- running --------------------------------------------------------------------------------------


class FleetInterrupted(KeyboardInterrupt):
    """Ctrl-C or SIGTERM stopped ``up_all``: ``fleet`` has each target's result, the running
    ones ``failed`` (their statement cancelled), those not started ``skipped``."""

    def __init__(self, fleet: FleetResult) -> None:
        super().__init__()
        self.fleet = fleet


INTERRUPTED = "interrupted: its running statement was cancelled and rolled back"


def up_all(settings: Settings, *, parallel: int = 4, fail_fast: bool = False,
           dry_run: bool = False, on_done: Callable[[TargetResult], None] | None = None,
           targets: list[Target] | None = None, **up_options: Any) -> FleetResult:
    """``api.up`` on every target (``targets``, else those configured), ``parallel`` at a
    time; ``up_options`` go to each ``api.up``. See the module docstring.

    Raises FleetInterrupted (a KeyboardInterrupt) once the running targets have stopped, when a
    signal interrupts it.
    """
    targets = resolve_targets(settings) if targets is None else targets
    stop = threading.Event()
    running = RunningTargets()

    def run(target: Target) -> TargetResult:
        if not running.enter(stop):
            result = TargetResult(target.name, "skipped")
        else:
            started = time.perf_counter()
            try:
                result = _up_one(target, dry_run, up_options)
            except KeyboardInterrupt:  # the fleet was interrupted: see target_threads
                result = TargetResult(target.name, "failed", error=INTERRUPTED, exit_code=130,
                                      duration_ms=_since(started))
            finally:
                running.leave()
            if result.status == "failed" and fail_fast:
                stop.set()
        if on_done is not None:
            on_done(result)
        return result

    def interrupt() -> None:
        stop.set()
        running.interrupt()

    with waiting_interruptibly():
        results = map_targets(run, targets, parallel, on_interrupt=interrupt)
    fleet = FleetResult([r if r is not None else TargetResult(t.name, "skipped")
                         for t, r in zip(targets, results, strict=True)])
    if stop.is_set() and running.interrupted:
        raise FleetInterrupted(fleet)
    return fleet


def status_all(settings: Settings, *, parallel: int = 4) -> list[TargetStatus]:
    """Every target's counts (applied, pending, failed, drift) and head version."""
    return [line for line in map_targets(_status_one, resolve_targets(settings), parallel)
            if line is not None]


def _up_one(target: Target, dry_run: bool, options: dict[str, Any]) -> TargetResult:
    from pgshift import api

    started = time.perf_counter()
    try:
        _refuse_cut_history(target)
        if target.kind == "schema" and not dry_run:
            _create_schema(target)
        result = api.up(target.settings, dry_run=dry_run, **options)
    except PgshiftError as exc:
        return TargetResult(target.name, "failed", error=_safe(str(exc), target),
                            exit_code=exc.exit_code, duration_ms=_since(started))
    except Exception as exc:  # a bug on one target must not hide the others' results
        return TargetResult(target.name, "failed", exit_code=70, duration_ms=_since(started),
                            error=_safe(f"internal error: {type(exc).__name__}: {exc}", target))
    count = len(result.selected) if dry_run else len(result.outcomes)
    return TargetResult(target.name, "applied" if count else "up-to-date", count,
                        duration_ms=_since(started))


def _status_one(target: Target) -> TargetStatus:
    from pgshift import api

    try:
        _refuse_cut_history(target)
        plan = api.status(target.settings)
    except PgshiftError as exc:
        return TargetStatus(target.name, error=_safe(str(exc), target))
    applied = plan.applied()
    return TargetStatus(
        target.name, applied=len(applied), pending=len(plan.pending()),
        failed=sum(1 for i in plan.items if i.state == "failed"), drift=len(plan.drift()),
        head=applied[-1].version if applied else None)


def _refuse_cut_history(target: Target) -> None:
    """A long tenant's history may sit in the name PostgreSQL cut it to, perhaps shared with
    another tenant: starting afresh would rerun every migration, so the user picks the owner."""
    if target.cut_history is None:
        return
    from pgshift.db import connect

    conn = connect(target.settings)
    try:
        with conn.cursor() as cur:
            cur.execute("SELECT array_agg(nspname) FROM pg_namespace WHERE nspname = ANY(%s)",
                        ([target.cut_history, target.settings.schema],))
            found = cur.fetchone()[0] or []
    finally:
        conn.close()
    if found == [target.cut_history]:
        raise ConfigError(
            f"tenant {target.name}: its history is in {target.cut_history}, a name PostgreSQL "
            f"cut short and that another long tenant may share",
            hint=f'if it is this tenant\'s, ALTER SCHEMA "{target.cut_history}" RENAME TO '
                 f'"{target.settings.schema}"')


def _create_schema(target: Target) -> None:
    """A tenant's schema must exist, or its tables would land in ``public``."""
    from psycopg2 import sql

    from pgshift.db import connect

    conn = connect(target.settings)
    try:
        with conn.cursor() as cur:
            cur.execute("SELECT NOT EXISTS (SELECT FROM pg_namespace WHERE nspname = %s)",
                        (target.name,))
            if cur.fetchone()[0]:
                cur.execute(sql.SQL("CREATE SCHEMA IF NOT EXISTS {}").format(
                    sql.Identifier(target.name)))
    finally:
        conn.close()


def _safe(text: str, target: Target) -> str:
    from pgshift.db import redact

    return redact(text, target.settings.url)


def _since(started: float) -> float:
    return (time.perf_counter() - started) * 1000
