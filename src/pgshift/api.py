"""The library API: one function per verb. Settings in, dataclasses out; nothing printed.

Each function raises a ``PgshiftError`` subclass on failure (see ``pgshift.errors``). Long
operations report progress through an optional ``on_event(kind, migration, info)`` callback.
"""

from __future__ import annotations

import contextlib
import os
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field, replace
from functools import partial
from pathlib import Path
from typing import TYPE_CHECKING

from pgshift.errors import DatabaseConnectionError, InputError, PgshiftError
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
from pgshift.preflight import check_runnable, lint_gate

if TYPE_CHECKING:
    from psycopg2.extensions import connection as Connection

    from pgshift.adopt import AdoptResult
    from pgshift.backfill.batched import BackfillResult, Batch
    from pgshift.backfill.options import BackfillOptions
    from pgshift.backfill.progress import BackfillProgress
    from pgshift.callbacks import Callbacks
    from pgshift.config import Settings
    from pgshift.db import BackgroundConnect
    from pgshift.health import Check
    from pgshift.migrations.cache import DiscoveryCache
    from pgshift.monitor.activity import Snapshot
    from pgshift.monitor.kill import KillResult
    from pgshift.monitor.rollback import RollbackPlan
    from pgshift.recipes import RecipeParams
    from pgshift.runner import Direction, EventHandler, Outcome, Runner
    from pgshift.script import Script
    from pgshift.squash import Squash
    from pgshift.state.history import HistoryEntry
    from pgshift.state.lock import LockHolder
    from pgshift.state.runs import Run
    from pgshift.targets import FleetResult, TargetResult, TargetStatus
    from pgshift.verify import VerifyOptions, VerifyReport
    from pgshift.verify.drift.migration import DriftCapture
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


def create_from_drift(settings: Settings, name: str, *, embedded: bool = False,
                      timestamp: bool = False,
                      progress: Callable[[str], None] | None = None) -> DriftCapture | None:
    """Write the schema drift (``schema_drift``) as the next migration; None when there is
    none. The database it was read from already has the change: record the file there with
    ``baseline``, and ``up`` applies it everywhere else (``pgshift.verify.drift.migration``)."""
    drift = schema_drift(settings, embedded=embedded, progress=progress)
    if drift.ok:
        return None
    from datetime import datetime, timezone

    from pgshift.db import describe
    from pgshift.verify.drift.migration import DriftCapture, drift_migration

    migration = drift_migration(drift.expected, drift.actual, drift.major)
    flavor = _flavor(settings)
    migration.files("", flavor)  # what the flavor cannot hold is refused before any file
    path = create(settings, name, timestamp=timestamp)
    # V008__x.sql, 20240101120000_x.sql, 000008_x.up.sql: the version starts the name
    version = path.name[1:].split("__")[0] if path.name[:1] in "VB" else path.name.split("_")[0]
    when = datetime.now(timezone.utc).strftime("%Y-%m-%d %H:%M UTC")
    header = (f"-- {name}: changes made by hand on {describe(settings.url or '')}, captured "
              f"{when} by 'pgshift create --from-drift'.\n-- That database has them already: "
              f"record this file there with 'pgshift baseline --version {version}'.")
    up_text, down_text = migration.files(header, flavor)
    # Flyway's undo file and golang-migrate's down file sit beside the up file.
    down_path = (path.with_name(path.name.replace(".up.sql", ".down.sql"))
                 if flavor == "golang-migrate" else path.with_name("U" + path.name[1:]))
    written = [path, down_path] if down_text is not None else [path]
    try:
        path.write_text(up_text, encoding="utf-8")
        if down_text is not None:
            down_path.write_text(down_text, encoding="utf-8")
    except OSError as exc:
        for made in written:  # no half-written migration for the next 'up' to run
            made.unlink(missing_ok=True)
        raise InputError(f"cannot write the migration: {exc.strerror}", path=path) from None
    return DriftCapture(path, migration, drift, version)


def _flavor(settings: Settings) -> str:
    """The migrations directory's flavor, as set or detected (pgshift's for a new one)."""
    from pgshift.callbacks import is_callback
    from pgshift.migrations.flavors import check_flavor, detect_flavor

    if settings.flavor:
        return check_flavor(settings.flavor)
    if not settings.dir.is_dir():
        return "pgshift"
    return detect_flavor(settings.dir, lambda p: p.read_text(encoding="utf-8", errors="replace"),
                         is_callback)


def squash(settings: Settings, *, to: str | None = None, name: str = "baseline",
           embedded: bool = False, progress: Callable[[str], None] | None = None) -> Squash:
    """Write ``B{to}__{name}.sql``, the database the migrations up to ``to`` (default: the
    newest) build, proven on scratch databases; new databases run it instead of them
    (``pgshift.squash``). Nothing of the target is read or changed."""
    from pgshift.callbacks import is_callback
    from pgshift.migrations.flavors import NUMBERED, check_flavor, detect_flavor
    from pgshift.squash import squash_migrations

    if not settings.dir.is_dir():
        raise InputError("migrations directory not found", path=settings.dir)
    flavor = check_flavor(settings.flavor) if settings.flavor else detect_flavor(
        settings.dir, lambda p: p.read_text(encoding="utf-8", errors="replace"), is_callback)
    if flavor in NUMBERED:
        raise InputError(f"squash writes pgshift's B files, which a {flavor} directory "
                         "cannot hold", path=settings.dir)
    if any(key.startswith("schemas") for key in settings.targets):
        raise InputError("squash cannot write a baseline for schema-per-tenant targets: the "
                         "dumped objects name their schema, and a new tenant would get them "
                         "in public", hint="keep replaying the versioned migrations there")
    # Without placeholders filled: a migration that has one is refused, not baked in.
    migrations = discover_migrations(settings.dir, flavor=flavor)
    return squash_migrations(settings, migrations, parse_target(to), name=name,
                             embedded=embedded, progress=progress)


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
    from pgshift.phases import apply_phase, check_usage

    migrations, cache = _read_files(settings, trust_cache=True)
    target = parse_target(to)
    with _session(settings) as conn, contextlib.ExitStack() as later:
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
        # The lock's connection opens while the checks below run.
        opening = None if dry_run else later.enter_context(_lock_connection(settings))
        from pgshift.migrations.split_memo import remembering

        with remembering(settings.cache_dir):
            check_runnable(selected)
        hooks = _callbacks(settings)
        if not dry_run:  # a dry run may preview a standby's plan
            from pgshift.preflight import check_writable

            check_writable(conn, settings)  # a standby, read-only or unprivileged: first
        # A dry run passes the same safety verdicts as the run would: lint, columns in use.
        lint_gate(settings, conn, selected, [i.migration for i in plan.applied() if i.migration])
        if not settings.unsafe:
            check_usage(conn, selected)
        if dry_run:
            return RunResult(plan, selected=selected, dry_run=True)

        with _locked(settings, on_lock_wait, opening) as check_held:
            from pgshift.state import history

            history.install(conn, settings.schema)
            plan = _read_plan(conn, settings, migrations)  # another runner may have moved on
            refuse_drift(plan, allow_out_of_order=out_of_order)
            selected = apply_phase(select_up(plan, target), phase,
                                   allow_contract=allow_contract)
            if not selected:  # that runner applied them
                return RunResult(plan)
            outcomes = _recorded_run(
                conn, settings, plan, "up", on_event, hooks,
                lambda runner, entries: runner.apply_together(selected)
                if settings.single_transaction else runner.apply_all(selected, entries),
                check_held)
            return RunResult(_read_plan(conn, settings, migrations), outcomes, selected)


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
    with _session(settings) as conn, contextlib.ExitStack() as later:
        plan = _read_plan(conn, settings, migrations)
        selected = select_down(plan, steps=steps, to=parse_target(to), everything=everything)
        if cache is not None and cache.hits and selected and (
                plan.drift() or plan.interrupted() or not cache.confirm(
                    path for m in selected for path in (m.path, m.down_path) if path)):
            # As for up: what is undone is confirmed on the disk (its V file and any U file);
            # anything unusual is decided on a fresh read of every file.
            migrations = _discover(settings)
            plan = _read_plan(conn, settings, migrations)
            selected = select_down(plan, steps=steps, to=parse_target(to),
                                   everything=everything)
        if dry_run or not selected:
            return RunResult(plan, selected=selected, dry_run=dry_run)
        opening = later.enter_context(_lock_connection(settings))  # opens during the checks
        from pgshift.migrations.split_memo import remembering
        from pgshift.preflight import check_writable
        from pgshift.runner import body_statements

        with remembering(settings.cache_dir):  # and a down part that cannot parse stops here
            for migration in selected:
                body_statements(migration, "down")
        check_writable(conn, settings)  # as for up: a standby, read-only or unprivileged
        hooks = _callbacks(settings)
        with _locked(settings, on_lock_wait, opening) as check_held:
            from pgshift.state import history

            history.install(conn, settings.schema)  # the run log may be newer than the history
            plan = _read_plan(conn, settings, migrations)
            selected = select_down(plan, steps=steps, to=parse_target(to), everything=everything)
            if confirmed is not None and [m.name for m in selected] != list(confirmed):
                from pgshift.errors import LockBusyError

                raise LockBusyError(
                    "another runner changed what is applied while this one waited for the "
                    f"lock: {', '.join(m.label for m in selected) or 'nothing'} would be rolled "
                    f"back, not the {', '.join(confirmed)} confirmed; nothing was rolled back",
                    hint="look at the new plan: run the rollback again")
            if not selected:  # another runner rolled them back
                return RunResult(plan)
            outcomes = _recorded_run(conn, settings, plan, "down", on_event, hooks,
                                     lambda runner, entries: runner.revert_all(selected, entries),
                                     check_held)
            return RunResult(_read_plan(conn, settings, migrations), outcomes, selected)


def _recorded_run(
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


def redo(settings: Settings, *, on_event: EventHandler | None = None) -> RunResult:
    """Roll back the last applied migration and apply it again."""
    refuse_drift(_status(settings), allow_out_of_order=False)  # the up half must be able to run
    undone = down(settings, steps=1, on_event=on_event)
    if not undone.outcomes:
        raise InputError("nothing to redo: no migration is applied")
    last = undone.outcomes[-1].migration
    redone = up(settings, to=str(last.version), on_event=on_event)
    return RunResult(redone.plan, [*undone.outcomes, *redone.outcomes], redone.selected)


def script(
    settings: Settings,
    direction: Direction = "up",
    *,
    to: str | None = None,
    steps: int | None = None,
    everything: bool = False,
    out_of_order: bool = False,
    phase: str | None = None,
    allow_contract: bool = False,
    embedded: bool = False,
    after: str | None = None,
) -> Script:
    """The run ``up`` (or ``down``) would make, as a psql script for a DBA (``pgshift.script``).

    Changes nothing. Selects and checks what the run would (drift, lint gate, columns in use),
    with the same options; ``Script.migrations`` is empty when there is nothing to do.

    ``embedded`` plans an ``up`` script without the target, on a throwaway server: the
    migrations up to ``after`` are applied there first, and the script holds every one after
    it. Its guards skip, on the target, what is applied there already.
    """
    if embedded:
        return _script_without_target(settings, to=to, after=after, phase=phase,
                                      allow_contract=allow_contract)
    if after is not None:
        raise InputError("--after goes with --embedded: with a database, the script holds "
                         "what it has pending")
    if direction == "up":
        planned = up(settings, to=to, dry_run=True, out_of_order=out_of_order, phase=phase,
                     allow_contract=allow_contract)
    else:
        planned = down(settings, steps=steps, to=to, everything=everything, dry_run=True)
    from pgshift.script import Script, write_script

    if not planned.selected:
        return Script("", direction)
    from pgshift import __version__
    from pgshift.db import describe

    with _session(settings) as conn:
        return write_script(conn, settings, planned.selected, direction,
                            callbacks=_callbacks(settings), target=describe(settings.url or ""),
                            written_by=f"pgshift {__version__}")


def _script_without_target(settings: Settings, *, to: str | None, after: str | None,
                           phase: str | None, allow_contract: bool) -> Script:
    from pgshift import __version__
    from pgshift.script import Script, write_script
    from pgshift.verify.scratch import ScratchDatabase

    with ScratchDatabase(settings, embedded=True, prefer_major=settings.pg_version) as scratch:
        there = replace(settings, url=scratch.url)
        if after is not None:  # what the target has already, so that the checks see it
            up(replace(there, lint=False), to=after, allow_contract=True)
        planned = up(there, to=to, dry_run=True, phase=phase, allow_contract=allow_contract)
        if not planned.selected:
            return Script("", "up")
        selected = planned.selected
        if any(m.kind == "baseline" for m in selected):
            # Planned as for a new database: a baseline. The script also holds the files it
            # stands for, which a database that ran the versioned migrations needs; each
            # database takes one path, by the guards (see pgshift.script).
            held = [i.migration for i in planned.plan.items
                    if i.state == "below-baseline" and i.migration is not None]
            selected = [*(m for m in selected if m.kind == "baseline"), *held,
                        *(m for m in selected if m.kind != "baseline")]
        version = parse_target(after)
        required = next((i.migration for i in planned.plan.items if i.migration is not None
                         and i.migration.version == version and i.state == "applied"), None)
        where = f"any database at {after} or later" if after else "any database"
        with _session(there) as conn:
            return write_script(conn, there, selected, "up",
                                callbacks=_callbacks(settings),
                                target=f"{where} (planned without it, on a throwaway server)",
                                written_by=f"pgshift {__version__}", after=required)


def baseline(settings: Settings, version: str) -> RunResult:
    """Mark every migration up to ``version`` as applied without running it."""
    target = parse_target(version)
    assert target is not None
    migrations = _discover(settings)
    from pgshift.state import history, runs

    with _session(settings) as conn, _locked(settings, None):
        history.install(conn, settings.schema)
        plan = _read_plan(conn, settings, migrations)
        chosen = [
            i.migration
            for i in plan.items
            if i.migration is not None
            and i.migration.version is not None
            and i.migration.version <= target
            and i.state in ("pending", "out-of-order", "failed")
        ]
        if not any(m.version == target for m in migrations if m.version is not None):
            raise InputError(f"no migration with version {target}", hint="see 'pgshift status'")
        with runs.recording(conn, settings.schema, "baseline") as run, conn.cursor() as cur:
            cur.execute("BEGIN")
            for migration in chosen:
                cur.execute(
                    history.upsert_sql(
                        settings.schema, migration, "applied", duration_sql="0", error="baseline"
                    )
                )
            cur.execute("COMMIT")
            for migration in chosen:
                run.done(migration)
        return RunResult(_read_plan(conn, settings, migrations), selected=chosen)


@dataclass(frozen=True)
class RepairResult:
    """What ``repair`` changed in the history."""

    accepted_checksums: list[str]
    cleared: list[str]
    removed_missing: list[str]
    # Downs interrupted part-way: neither "applied" nor "not applied" would be true of them
    # (repair leaves their rows; 'pgshift down' finishes them).
    left_part_way: list[str] = field(default_factory=list)
    # Part-way ups cleared: what their first statements made is still there.
    cleared_part_way: list[str] = field(default_factory=list)


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


def repair(settings: Settings, *, remove_missing: bool = False) -> RepairResult:
    """Accept changed checksums and clear failed/interrupted rows, after an explicit look.

    Rows of missing files are kept unless ``remove_missing``: a file can come back, and
    forgetting a migration that ran is not a repair.
    """
    migrations = _discover(settings)
    from pgshift.state import history, runs

    with _session(settings) as conn, _locked(settings, None):
        plan = _read_plan(conn, settings, migrations)
        accepted, cleared, removed, left, part_way_ups = [], [], [], [], []
        changes, repaired = [], []
        for item in plan.items:
            if item.entry is None:
                continue
            part_way = item.entry.status in ("running", "reverting") and bool(
                item.entry.statements_done)
            if part_way and item.entry.status == "reverting":
                left.append(item.script)  # neither applied nor not: 'pgshift down' finishes it
                continue
            if part_way:
                part_way_ups.append(item.script)
            if item.state == "changed" and item.migration is not None:
                changes.append(history.set_checksum_sql(
                    settings.schema, item.entry.key, item.migration.checksum))
                accepted.append(item.script)
            elif item.entry.status == "reverting":
                # An interrupted down before any of its down part ran: it is still applied.
                changes.append(history.set_applied_sql(settings.schema, item.entry.key))
                cleared.append(item.script)
            elif item.state == "failed" or (item.state == "missing" and remove_missing):
                changes.append(history.delete_sql(settings.schema, item.entry.key))
                (cleared if item.state == "failed" else removed).append(item.script)
            else:
                continue
            repaired.append((item.script, item.entry.key))
        if not changes:
            return RepairResult([], [], [], left)
        from psycopg2 import sql

        history.install(conn, settings.schema)  # the run log may be newer than the history
        with runs.recording(conn, settings.schema, "repair") as run, conn.cursor() as cur:
            cur.execute(sql.SQL(";").join([sql.SQL("BEGIN"), *changes, sql.SQL("COMMIT")]))
            for name, key in repaired:
                run.done_by_key(name, key)
        return RepairResult(accepted, cleared, removed, left, part_way_ups)


def create(settings: Settings, name: str, *, timestamp: bool = False) -> Path:
    """Write the next migration named ``name`` in the directory's format; return its (up) path.

    pgshift's own: ``V…__name.sql`` with an up and a down section. A directory of another tool
    (``flavor``, set or detected) gets that tool's file(s), e.g. golang-migrate's
    ``N_name.up.sql`` and ``N_name.down.sql`` (see ``migrations.templates``). The version
    follows the last one (a timestamp after a timestamp); ``timestamp`` starts timestamps.
    """
    from pgshift.migrations.templates import write_new

    flavor = _flavor(settings)
    existing: list[Migration] = []
    if settings.dir.is_dir():
        existing = discover_migrations(settings.dir, flavor=flavor)
    return write_new(settings.dir, name, flavor, existing, timestamp=timestamp)[0]


# -- internals ----------------------------------------------------------------------------------


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


# How every callback file's name, and the callbacks folder's, begin (a test holds this to
# pgshift.callbacks' EVENTS and FOLDER).
CALLBACK_NAME_STARTS = ("before", "after", "callbacks")


def _callbacks(settings: Settings) -> Callbacks | None:
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
def _session(settings: Settings, application_name: str | None = None) -> Iterator[Connection]:
    from pgshift.db import connect

    conn = connect(settings, application_name=application_name)
    try:
        yield conn
    finally:
        conn.close()


@contextmanager
def _lock_connection(settings: Settings) -> Iterator[BackgroundConnect]:
    """The lock's connection, opening in the background from now on (see ``_locked``)."""
    from pgshift.db import BackgroundConnect

    opening = BackgroundConnect(settings, application_name=f"{settings.application_name} lock")
    try:
        yield opening
    finally:
        opening.close()


@contextmanager
def _locked(
    settings: Settings, on_wait: Callable[[LockHolder | None], None] | None,
    opening: BackgroundConnect | None = None,
) -> Iterator[Callable[[], None]]:
    """pgshift's advisory lock, on a connection of its own that never opens a transaction
    (``opening``'s, when the caller started opening it earlier). The block gets a check that
    raises LockBusyError once the lock is lost."""
    from pgshift.state.lock import advisory_lock

    with contextlib.ExitStack() as stack:
        if opening is None:
            opening = stack.enter_context(_lock_connection(settings))
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


# -- backfill -----------------------------------------------------------------------------------


def backfill(
    settings: Settings,
    table: str,
    assignments: str,
    where: str | None = None,
    *,
    options: BackfillOptions | None = None,
    again: bool = False,
    on_batch: Callable[[Batch], None] | None = None,
    on_note: Callable[[str], None] | None = None,
) -> BackfillResult:
    """``UPDATE table SET assignments WHERE where`` in batches, resuming an unfinished run.

    One-off job (``pgshift backfill``): checkpointed under an id derived from the statement, so
    running the same command again continues where a killed run stopped; once it finished, it
    does nothing (``done_already``), unless ``again``: then a finished run starts over.
    ``again`` is an InputError while a run of the same statement is running or stopped
    part-way (it resumes without ``again``). Two runs of the same backfill at once are refused
    (LockBusyError). Bad input (the table, the SET, the WHERE) is an InputError before
    pgshift's own tables are installed: the database is left as it was.
    """
    from pgshift.backfill.batched import Limits, prepare_backfill, run_backfill
    from pgshift.backfill.options import BackfillOptions
    from pgshift.backfill.progress import job_id
    from pgshift.backfill.statement import build_update, parse_backfill
    from pgshift.errors import LockBusyError
    from pgshift.state import history

    statement = parse_backfill(build_update(table, assignments, where))
    id = job_id(statement.text)
    options = options or BackfillOptions()
    limits = Limits(
        settings.lock_timeout,
        min(settings.statement_timeout or 60.0, 60.0),
        settings.lock_retries,
    )
    with _session(settings) as conn:
        prepared = prepare_backfill(conn, settings.schema, statement, limits)
        with conn.cursor() as cur:
            cur.execute("SELECT pg_try_advisory_lock(%s, hashtext(%s))", (BACKFILL_LOCK, id))
            (locked,) = cur.fetchone()
        if not locked and again:  # exit 2, not 4: retried once that run ends, it would redo it
            raise InputError(
                f"this backfill of {statement.qualified} is running now: --again starts over "
                "only a finished one",
                hint="let the running one finish ('pgshift ps' shows it), then decide whether "
                     "it must run over")
        if not locked:
            raise LockBusyError(
                f"this backfill of {statement.qualified} is already running",
                hint="see 'pgshift status' or 'pgshift ps'",
            )
        history.install(conn, settings.schema)
        return run_backfill(
            conn,
            settings.schema,
            statement,
            options,
            id=id,
            resume=True,
            again=again,
            limits=limits,
            prepared=prepared,
            on_batch=on_batch,
            on_note=on_note,
        )


BACKFILL_LOCK = 73482016  # advisory lock class of one-off backfills (with hashtext(id))


def backfill_progress(settings: Settings) -> list[BackfillProgress]:
    """Unfinished backfills and those finished in the last hour (reads only)."""
    from pgshift.backfill.progress import read_progress

    with _session(settings) as conn:
        return read_progress(conn, settings.schema)


def create_recipe(settings: Settings, recipe: str, params: RecipeParams) -> list[Path]:
    """Write recipe ``recipe``'s migrations as the next versions; return their paths.

    When the database is reachable, the recipe asks it first (``recipes.refusals``): the
    existing column (rename, change type, remove; otherwise they ask for ``--type``), a
    partitioned table's partitions (add-index), and whatever its migrations would fail on at
    ``up`` time, which is an InputError before anything is written.
    """
    from pgshift.recipes import write_recipe
    from pgshift.recipes.refusals import ask_database

    def up_to_date() -> bool:
        if not settings.dir.exists():  # a project's first migration: none pending to make it
            return True
        try:
            return not status(settings).pending()
        except PgshiftError:
            return False

    params = ask_database(settings, recipe, params, up_to_date=up_to_date)
    return write_recipe(settings.dir, recipe, params)


def plan_locks(settings: Settings, migrations: Sequence[Migration], direction: str = "up"
               ) -> dict[str, list[tuple[str, str]]]:
    """For each migration (by label), the locks of SHARE or stronger its up (or down) part
    takes on tables that exist, the strongest per table, as the linter reads the SQL: what the
    app's queries would wait for. Reads the database's catalog; changes nothing."""
    from pgshift.lint import LintOptions, lint_migrations
    from pgshift.lint.catalog_rows import fetch_catalog

    if direction == "down":  # linted as what runs: the down parts, in the order they run
        migrations = [replace(m, up_sql=m.down_sql or "") for m in migrations]

    with _session(settings) as conn:
        catalog = fetch_catalog(conn)
        pg_version = settings.pg_version or conn.server_version // 10000
    options = LintOptions(pg_version=pg_version, lock_timeout=settings.lock_timeout)
    report = lint_migrations(migrations, options, catalog=catalog)
    return {label: _strongest_per_table(locks) for label, locks in report.locks.items()}


def _strongest_per_table(locks: list[tuple[str, str]]) -> list[tuple[str, str]]:
    from pgshift.lint.locks import strongest

    tables = dict.fromkeys(table for table, _ in locks)
    chosen = [strongest([lock for lock in locks if lock[0] == table]) for table in tables]
    return [lock for lock in chosen if lock is not None]


def dump_schema(settings: Settings) -> str:
    """The database's schema as SQL, stable across machines and runs, then its applied
    migrations as comments (see ``pgshift.schema_dump``). Needs ``pg_dump``."""
    from pgshift.schema_dump import dump_schema as dump

    with _session(settings) as conn:
        return dump(conn, settings)


def dump_migrations_schema(settings: Settings) -> str:
    """``dump_schema`` of what the migrations make: all of them applied to an empty database on
    a throwaway server (PostgreSQL ``pg-version`` when set), which is then stopped. Needs no
    database, only PostgreSQL's binaries; lint is left to ``lint`` and ``up``."""
    from pgshift.verify.scratch import ScratchDatabase

    with ScratchDatabase(settings, embedded=True, prefer_major=settings.pg_version) as scratch:
        scratch_settings = replace(settings, url=scratch.url, lint=False)
        up(scratch_settings)
        return dump_schema(scratch_settings)


def write_schema_file(settings: Settings, path: Path | None = None, *,
                      embedded: bool = False) -> Path:
    """Write ``dump_schema`` (``dump_migrations_schema`` when ``embedded``) to ``path``
    (default: the ``schema-file`` setting), replacing the file at once: a reader never sees
    half of it. Returns the path."""
    import tempfile

    target = path or settings.schema_file
    if target is None:
        raise InputError("no file to write the schema to", hint="set schema-file, or pass one")
    text = dump_migrations_schema(settings) if embedded else dump_schema(settings)
    try:
        target.parent.mkdir(parents=True, exist_ok=True)
        mode = target.stat().st_mode & 0o777 if target.exists() else 0o644
        handle, temporary = tempfile.mkstemp(prefix=f".{target.name}.", dir=target.parent)
    except OSError as exc:
        raise InputError(f"cannot write the schema file: {exc.strerror}", path=target) from None
    try:
        with os.fdopen(handle, "w", encoding="utf-8") as out:
            out.write(text)
        os.chmod(temporary, mode)  # mkstemp's file is private; the schema file is not
        os.replace(temporary, target)
    except BaseException as exc:
        with contextlib.suppress(OSError):
            os.unlink(temporary)
        if isinstance(exc, OSError):
            raise InputError(f"cannot write the schema file: {exc.strerror}",
                             path=target) from None
        raise
    return target


def schema_file_diff(settings: Settings, path: Path | None = None, *,
                     embedded: bool = False) -> list[str]:
    """How ``path`` (default: the ``schema-file`` setting) differs from what ``dump_schema``
    (``dump_migrations_schema`` when ``embedded``) gives now, as unified diff lines; empty when
    it is up to date. For CI."""
    import difflib

    target = path or settings.schema_file
    if target is None:
        raise InputError("no schema file to compare", hint="set schema-file, or pass one")
    try:
        written = target.read_text(encoding="utf-8")
    except FileNotFoundError:
        written = ""
    except (OSError, UnicodeDecodeError) as exc:
        raise InputError(f"cannot read {target}: {exc}") from None
    now = dump_migrations_schema(settings) if embedded else dump_schema(settings)
    return list(difflib.unified_diff(written.splitlines(), now.splitlines(), str(target),
                                     "the database", lineterm="", n=1))


def doctor(settings: Settings) -> list[Check]:
    """Whether migrations can run on the configured database, and what would slow or stop
    them: connection, privileges, pooler, the files against the history, the migration lock,
    long transactions, pg_stat_statements. Reads only."""
    from pgshift.health import run_checks

    return run_checks(settings)


# -- watch and rescue ---------------------------------------------------------------------------


def ps(settings: Settings) -> Snapshot:
    """What is migrating now: pgshift's sessions, other DDL, locks, blockers and progress.

    Reads only, and works on a database where pgshift is not installed.
    """
    from pgshift.monitor.activity import snapshot

    with _session(settings, application_name=f"{settings.application_name} ps") as conn:
        return snapshot(conn, settings)


def kill(settings: Settings, pid: int, *, terminate: bool = False, grace: float | None = None,
         force: bool = False) -> KillResult:
    """Cancel a migration or DDL session's statement; terminate it (now, or after ``grace``).

    Refuses (InputError) a session that is neither a migration nor DDL unless ``force``.
    """
    from pgshift.monitor.kill import kill_session

    with _session(settings, application_name=f"{settings.application_name} kill") as conn:
        return kill_session(conn, settings, pid, terminate=terminate, grace=grace, force=force)


def kill_stuck(settings: Settings, *, older_than: float | None = None, terminate: bool = False,
               grace: float | None = None) -> list[KillResult]:
    """``kill`` every migration or DDL session running longer than ``older_than`` (the budget)."""
    from pgshift.config import DEFAULT_TIMEOUT
    from pgshift.monitor.kill import kill_stuck as kill_all

    # A budget of 0 is none: then 'stuck' is past the default budget, never every migration.
    limit = (settings.timeout or DEFAULT_TIMEOUT) if older_than is None else older_than
    with _session(settings, application_name=f"{settings.application_name} kill") as conn:
        return kill_all(conn, settings, older_than=limit, terminate=terminate, grace=grace)


def rollback_plan(settings: Settings, to: str) -> RollbackPlan:
    """Which migrations an emergency rollback to ``to`` takes down, and which cannot go.

    Reads only. Run it with ``plan.check()`` (refuses irreversible ones) then ``down(to=...)``.
    """
    from pgshift.monitor.rollback import plan_rollback

    return plan_rollback(_status(settings), to)


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


__all__ = [
    "PlanItem",
    "RepairResult",
    "RunResult",
    "StatusReport",
    "adopt",
    "backfill",
    "backfill_progress",
    "baseline",
    "create",
    "create_recipe",
    "doctor",
    "down",
    "dump_migrations_schema",
    "dump_schema",
    "kill",
    "kill_stuck",
    "plan_locks",
    "ps",
    "redo",
    "repair",
    "rollback_plan",
    "schema_file_diff",
    "status",
    "status_report",
    "status_targets",
    "up",
    "up_targets",
    "validate",
    "verify",
    "write_schema_file",
]
