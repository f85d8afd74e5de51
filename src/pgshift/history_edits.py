"""The verbs that write history rows without running migrations, under pgshift's lock and in
the run log: ``baseline`` (mark as applied) and ``repair`` (accept changed checksums, clear
failed and interrupted rows).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from pgshift.api import RunResult, _discover, _read_plan, _session
from pgshift.errors import InputError
from pgshift.locked_run import locked
from pgshift.plan import parse_target

if TYPE_CHECKING:
    from pgshift.config import Settings


def baseline(settings: Settings, version: str) -> RunResult:
    """Mark every migration up to ``version`` as applied without running it."""
    target = parse_target(version)
    assert target is not None
    migrations = _discover(settings)
    from pgshift.state import history, runs, upgrades

    with _session(settings) as conn, locked(settings, None):
        upgrades.install(conn, settings.schema)
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


def repair(settings: Settings, *, remove_missing: bool = False) -> RepairResult:
    """Accept changed checksums and clear failed/interrupted rows, after an explicit look.

    Rows of missing files are kept unless ``remove_missing``: a file can come back, and
    forgetting a migration that ran is not a repair.
    """
    migrations = _discover(settings)
    from pgshift.state import history, runs, upgrades

    with _session(settings) as conn, locked(settings, None):
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

        upgrades.install(conn, settings.schema)  # the run log may be newer than the history
        with runs.recording(conn, settings.schema, "repair") as run, conn.cursor() as cur:
            cur.execute(sql.SQL(";").join([sql.SQL("BEGIN"), *changes, sql.SQL("COMMIT")]))
            for name, key in repaired:
                run.done_by_key(name, key)
        return RepairResult(accepted, cleared, removed, left, part_way_ups)

