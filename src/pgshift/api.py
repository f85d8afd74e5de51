"""The library API: one function per verb. Settings in, dataclasses out; nothing printed.

Each function raises a ``PgshiftError`` subclass on failure (see ``pgshift.errors``). Long
operations report progress through an optional ``on_event(kind, migration, info)`` callback.

The verbs ``status`` and ``up`` need, and what they share, are defined here; the others live
next to their data and load on first use (``_ELSEWHERE``), so that importing this module,
which every command does, costs ``status`` and a no-op ``up`` nothing more.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from functools import partial
from importlib import import_module
from typing import TYPE_CHECKING, Any

from pgshift.errors import InputError
from pgshift.migrations.discover import discover_migrations
from pgshift.migrations.model import Migration
from pgshift.plan import (
    Plan,
    PlanItem,
    build_plan,
    parse_target,
    refuse_drift,
    select_down,
    select_up,
)

if TYPE_CHECKING:
    from psycopg2.extensions import connection as Connection

    from pgshift.adopt import AdoptResult
    from pgshift.backfill.progress import BackfillProgress
    from pgshift.config import Settings
    from pgshift.health import Check
    from pgshift.migrations.cache import DiscoveryCache
    from pgshift.runner import EventHandler, Outcome
    from pgshift.state.lock import LockHolder
    from pgshift.state.runs import Run
    from pgshift.targets import FleetResult, TargetResult, TargetStatus
    from pgshift.verify import VerifyOptions, VerifyReport
    from pgshift.verify.schema_drift import SchemaDrift


@dataclass(frozen=True)
class RunResult:
    """What ``up``/``down``/``redo``/``baseline`` did (or, with ``dry_run``, would do)."""

    plan: Plan
    outcomes: list[Outcome] = field(default_factory=list)
    selected: list[Migration] = field(default_factory=list)
    dry_run: bool = False


# -- reading ------------------------------------------------------------------------------------


def status(settings: Settings) -> Plan:
    """Every migration with its state. Reads only; installs nothing.

    Files unchanged since an earlier run come from the discovery cache (see
    ``migrations.cache``); ``validate`` reads them all.
    """
    migrations = _discover(settings, trust_cache=True)
    from pgshift.db import connect

    conn = connect(settings)
    try:
        return _read_plan_with_stops(conn, settings, migrations)
    finally:
        conn.close()


@dataclass(frozen=True)
class StatusReport:
    """What ``pgshift status`` shows: the Plan and the batched backfills in flight."""

    plan: Plan
    backfills: list[BackfillProgress]


def status_report(settings: Settings) -> StatusReport:
    """``status`` plus backfill progress, on one connection (reads only)."""
    migrations = _discover(settings, trust_cache=True)
    from pgshift.backfill.progress import read_progress

    with _session(settings) as conn:
        plan = _read_plan_with_stops(conn, settings, migrations)
        return StatusReport(plan, read_progress(conn, settings.schema))


def validate(settings: Settings) -> Plan:
    """Check applied files against the history; raise DriftError on any drift, a
    no-transaction migration edited above where its interrupted run stopped included (what
    ``up`` or ``down`` would refuse to go on with).

    Reads every file: never trusts the discovery cache (and refreshes it).
    """
    migrations = _discover(settings)
    with _session(settings) as conn:
        plan = _read_plan_with_stops(conn, settings, migrations)
    refuse_drift(plan, allow_out_of_order=False)
    return plan


def schema_drift(settings: Settings, *, embedded: bool = False,
                 progress: Callable[[str], None] | None = None) -> SchemaDrift:
    """``validate``, then the database's schema against what its applied migrations make,
    replayed on a scratch database (``pgshift.verify.schema_drift``). Raises DriftError when
    the files have drifted; the schema's differences are in the result (``ok`` when none)."""
    from pgshift.verify.schema_drift import find_schema_drift

    return find_schema_drift(settings, validate(settings), embedded=embedded, progress=progress)


# -- changing -----------------------------------------------------------------------------------


def up(
    settings: Settings,
    *,
    to: str | None = None,
    dry_run: bool = False,
    out_of_order: bool = False,
    on_event: EventHandler | None = None,
    on_lock_wait: Callable[[LockHolder | None], None] | None = None,
    phase: str | None = None,
    allow_contract: bool = False,
) -> RunResult:
    """Apply pending migrations in order (up to version ``to``), then changed repeatables.

    ``phase='expand'`` stops before the first contract migration; without ``allow_contract`` a
    contract migration may not run with an expand one it depends on (see ``pgshift.phases``).
    ``dry_run`` changes nothing but refuses what the run would refuse (lint, columns in use).
    """
    from pgshift.phases import apply_phase

    migrations, cache = _read_files(settings, trust_cache=True)
    target = parse_target(to)

    def reselect(plan: Plan) -> list[Migration]:  # under the lock: another runner may have run
        refuse_drift(plan, allow_out_of_order=out_of_order)
        return apply_phase(select_up(plan, target), phase, allow_contract=allow_contract)

    with _session(settings) as conn:
        plan = _read_plan(conn, settings, migrations)
        if cache is not None and cache.hits and not _nothing_to_do(plan) and (
                plan.drift() or plan.interrupted()
                or not cache.confirm(m.path for m in plan.pending())):
            # The cache may tell what is applied and unchanged, as it does for status. What runs
            # and is recorded is confirmed on the disk (above); what is refused or cleaned up
            # is decided on a fresh read of every file.
            migrations = _discover(settings)
            plan = _read_plan(conn, settings, migrations)
        selected = apply_phase(select_up(plan, target), phase, allow_contract=allow_contract)
        refuse_drift(plan, allow_out_of_order=out_of_order)
        if not selected:
            return RunResult(plan, dry_run=dry_run)
        from pgshift.locked_run import run_up

        return run_up(conn, settings, migrations, plan, selected, reselect, dry_run=dry_run,
                      on_event=on_event, on_lock_wait=on_lock_wait)


def down(
    settings: Settings,
    *,
    steps: int | None = None,
    to: str | None = None,
    everything: bool = False,
    dry_run: bool = False,
    on_event: EventHandler | None = None,
    on_lock_wait: Callable[[LockHolder | None], None] | None = None,
    confirmed: Sequence[str] | None = None,
) -> RunResult:
    """Roll back the last ``steps`` migrations (default 1), those above ``to``, or all.

    ``confirmed``: the file names a user agreed to roll back, in order (``rollback``); when
    another runner changed them while this one waited for the lock, nothing is rolled back.
    """
    migrations, cache = _read_files(settings, trust_cache=True)

    def select(plan: Plan) -> list[Migration]:
        return select_down(plan, steps=steps, to=parse_target(to), everything=everything)

    with _session(settings) as conn:
        plan = _read_plan(conn, settings, migrations)
        selected = select(plan)
        if cache is not None and cache.hits and selected and (
                plan.drift() or plan.interrupted() or not cache.confirm(
                    path for m in selected for path in (m.path, m.down_path) if path)):
            # As for up: what is undone is confirmed on the disk (its V file and any U file);
            # anything unusual is decided on a fresh read of every file.
            migrations = _discover(settings)
            plan = _read_plan(conn, settings, migrations)
            selected = select(plan)
        if dry_run or not selected:
            return RunResult(plan, selected=selected, dry_run=dry_run)
        from pgshift.locked_run import run_down

        return run_down(conn, settings, migrations, selected, select, confirmed=confirmed,
                        on_event=on_event, on_lock_wait=on_lock_wait)


def redo(settings: Settings, *, on_event: EventHandler | None = None) -> RunResult:
    """Roll back the last applied migration and apply it again."""
    refuse_drift(_status(settings), allow_out_of_order=False)  # the up half must be able to run
    undone = down(settings, steps=1, on_event=on_event)
    if not undone.outcomes:
        raise InputError("nothing to redo: no migration is applied")
    last = undone.outcomes[-1].migration
    redone = up(settings, to=str(last.version), on_event=on_event)
    return RunResult(redone.plan, [*undone.outcomes, *redone.outcomes], redone.selected)


def log(settings: Settings, *, limit: int = 20, migration: str | None = None) -> list[Run]:
    """The last ``limit`` runs that changed the database, newest first (``pgshift.state.runs``):
    who, from where, when, how each ended and which migrations it applied or rolled back.
    ``migration`` (a version, or a repeatable's file name) keeps the runs that ran it."""
    from pgshift.state.history import version_key
    from pgshift.state.runs import read_runs

    key = None
    if migration is not None:
        version = None if migration.endswith(".sql") else parse_target(migration)
        key = f"R:{migration}" if version is None else version_key(version)
    with _session(settings) as conn:
        return read_runs(conn, settings.schema, limit, key)


# -- verify -------------------------------------------------------------------------------------


def verify(
    settings: Settings,
    options: VerifyOptions | None = None,
    *,
    progress: Callable[[str], None] | None = None,
) -> VerifyReport:
    """Check every pending migration on a scratch database (never the target).

    Round trip (down restores the schema, up is repeatable), lint, budget, and with queries
    their compatibility and plans. Returns the report; ``report.ok`` says whether it passed.
    """
    from pgshift.verify import VerifyOptions, run_verify

    return run_verify(settings, options or VerifyOptions(), progress)


def doctor(settings: Settings) -> list[Check]:
    """Whether migrations can run on the configured database, and what would slow or stop
    them: connection, privileges, pooler, the files against the history, the migration lock,
    long transactions, pg_stat_statements. Reads only."""
    from pgshift.health import run_checks

    return run_checks(settings)


# -- adopting -------------------------------------------------------------------------------------


def adopt(settings: Settings, tool: str, *, table: str | None = None,
          dry_run: bool = False) -> AdoptResult:
    """Record in pgshift's history what ``tool`` (flyway, node-pg-migrate, dbmate,
    golang-migrate, pgmigrate) applied, after checking every applied migration's file (and
    Flyway's checksums). Changes nothing else; ``dry_run`` changes nothing at all."""
    from pgshift.adopt import adopt as adopt_from

    return adopt_from(settings, tool, table=table, dry_run=dry_run)


# -- many targets ---------------------------------------------------------------------------------


def up_targets(settings: Settings, *, parallel: int = 4, fail_fast: bool = False,
               dry_run: bool = False, on_done: Callable[[TargetResult], None] | None = None,
               to: str | None = None, out_of_order: bool = False, phase: str | None = None,
               allow_contract: bool = False) -> FleetResult:
    """``up`` on every target of the ``[targets]`` config, ``parallel`` at a time, each with
    its own lock and history; one target's failure does not stop the others unless
    ``fail_fast``. ``to``, ``out_of_order``, ``phase`` and ``allow_contract`` are ``up``'s.
    See ``pgshift.targets``."""
    from pgshift.targets import up_all

    return up_all(settings, parallel=parallel, fail_fast=fail_fast, dry_run=dry_run,
                  on_done=on_done, to=to, out_of_order=out_of_order, phase=phase,
                  allow_contract=allow_contract)


def status_targets(settings: Settings, *, parallel: int = 4) -> list[TargetStatus]:
    """The fleet view: each target's applied, pending, failed and drifted counts."""
    from pgshift.targets import status_all

    return status_all(settings, parallel=parallel)


# -- elsewhere ------------------------------------------------------------------------------------

# The verbs defined next to their data, by module: ``pgshift.api.squash`` (or ``from
# pgshift.api import squash``) loads ``pgshift.authoring`` then, not before.
_ELSEWHERE = {
    "pgshift.authoring": ("create", "create_from_drift", "create_recipe", "squash"),
    "pgshift.backfill.one_off": ("backfill", "backfill_progress"),
    "pgshift.history_edits": ("RepairResult", "baseline", "repair"),
    "pgshift.lint.table_locks": ("plan_locks",),
    "pgshift.rescue": ("kill", "kill_stuck", "ps", "rollback_plan"),
    "pgshift.schema_file": ("dump_migrations_schema", "dump_schema", "schema_file_diff",
                            "write_schema_file"),
    "pgshift.script_selection": ("script",),
}

if TYPE_CHECKING:  # the same, for type checkers (``name as name``: re-exported)
    from pgshift.authoring import create as create
    from pgshift.authoring import create_from_drift as create_from_drift
    from pgshift.authoring import create_recipe as create_recipe
    from pgshift.authoring import squash as squash
    from pgshift.backfill.one_off import backfill as backfill
    from pgshift.backfill.one_off import backfill_progress as backfill_progress
    from pgshift.history_edits import RepairResult as RepairResult
    from pgshift.history_edits import baseline as baseline
    from pgshift.history_edits import repair as repair
    from pgshift.lint.table_locks import plan_locks as plan_locks
    from pgshift.rescue import kill as kill
    from pgshift.rescue import kill_stuck as kill_stuck
    from pgshift.rescue import ps as ps
    from pgshift.rescue import rollback_plan as rollback_plan
    from pgshift.schema_file import dump_migrations_schema as dump_migrations_schema
    from pgshift.schema_file import dump_schema as dump_schema
    from pgshift.schema_file import schema_file_diff as schema_file_diff
    from pgshift.schema_file import write_schema_file as write_schema_file
    from pgshift.script_selection import script as script

_MODULE_OF = {name: module for module, names in _ELSEWHERE.items() for name in names}


def __getattr__(name: str) -> Any:
    module = _MODULE_OF.get(name)
    if module is None:
        raise AttributeError(f"module 'pgshift.api' has no attribute {name!r}")
    value = globals()[name] = getattr(import_module(module), name)
    return value


def __dir__() -> list[str]:
    return sorted({*globals(), *_MODULE_OF})


# -- internals ----------------------------------------------------------------------------------
# What status and up need, shared with the verbs' own modules: kept here, on their path, so
# that they import nothing more.


def _discover(settings: Settings, *, trust_cache: bool = False) -> list[Migration]:
    """The migrations of ``settings.dir`` in its flavor, placeholders filled."""
    return _read_files(settings, trust_cache=trust_cache)[0]


def _read_files(settings: Settings, *, trust_cache: bool
                ) -> tuple[list[Migration], DiscoveryCache | None]:
    """``_discover``, and the discovery cache it used (None when turned off).

    Only ``status``, ``up`` and ``down`` trust the cache (``up`` and ``down`` confirm what they
    run on the disk). Every other command reads every file (and refreshes the cache), as
    ``validate`` does.
    """
    cache = None
    if settings.discovery_cache and settings.cache_dir is not None:
        from pgshift.migrations.cache import DiscoveryCache

        cache = DiscoveryCache.open(settings.cache_dir, settings.dir, flavor=settings.flavor,
                                    trust=trust_cache)
    migrations = discover_migrations(settings.dir, flavor=settings.flavor,
                                     placeholders=settings.placeholders, cache=cache)
    return migrations, cache


def _status(settings: Settings) -> Plan:
    """``status`` from the files themselves, for the commands that act on it."""
    migrations = _discover(settings)
    with _session(settings) as conn:
        return _read_plan(conn, settings, migrations)


def _nothing_to_do(plan: Plan) -> bool:
    return not plan.pending() and not plan.drift() and not plan.interrupted()


@contextmanager
def _session(settings: Settings, application_name: str | None = None) -> Iterator[Connection]:
    from pgshift.db import connect

    conn = connect(settings, application_name=application_name)
    try:
        yield conn
    finally:
        conn.close()


def _read_plan(conn: Connection, settings: Settings, migrations: Sequence[Migration]) -> Plan:
    from pgshift.state import history

    return build_plan(migrations, history.read(conn, settings.schema))


def _read_plan_with_stops(conn: Connection, settings: Settings,
                          migrations: Sequence[Migration]) -> Plan:
    """``_read_plan`` with the migrations stopped part-way whose file was edited above where
    they stopped as drift (``part_way.edits_above_stops``), for what reports: status, validate,
    doctor. (``up`` and ``down`` find them as they go on, and ``repair`` clears a part-way up
    as any failed one.)"""
    plan = _read_plan(conn, settings, migrations)
    if not plan.part_way():
        return plan  # the usual case, and status's path: nothing more to import
    from pgshift.part_way import edits_above_stops

    return edits_above_stops(plan, partial(_recorded_done_sha, conn, settings.schema))


def _recorded_done_sha(conn: Connection, schema: str, key: str) -> str | None:
    """The row's hash of the statements done (``history.read_done_sha``); None from a
    history older than the column (step 5; status installs nothing), as ``up`` would find
    once it has upgraded it."""
    import psycopg2.errors

    from pgshift.state import history

    try:
        return history.read_done_sha(conn, schema, key)
    except psycopg2.errors.UndefinedColumn:
        if not conn.autocommit:
            conn.rollback()
        return None


__all__ = [
    "PlanItem", "RepairResult", "RunResult", "StatusReport",
    "adopt", "backfill", "backfill_progress", "baseline", "create", "create_from_drift",
    "create_recipe", "doctor", "down", "dump_migrations_schema", "dump_schema", "kill",
    "kill_stuck", "log", "plan_locks", "ps", "redo", "repair", "rollback_plan",
    "schema_drift", "schema_file_diff", "script", "squash", "status", "status_report",
    "status_targets", "up", "up_targets", "validate", "verify", "write_schema_file",
]
