"""Files x history -> Plan: what is applied, pending, failed, changed, missing or out of order."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Literal

from pgshift.migrations.model import Migration, Version
from pgshift.state.history import HistoryEntry, key_of

State = Literal["applied", "pending", "failed", "changed", "missing", "out-of-order"]
DRIFT_STATES = ("changed", "missing", "out-of-order")


@dataclass(frozen=True)
class PlanItem:
    """One migration's state: its file (None when missing) and its history row (None if never)."""

    state: State
    migration: Migration | None
    entry: HistoryEntry | None
    detail: str = ""

    @property
    def version(self) -> str | None:
        if self.migration is not None:
            return str(self.migration.version) if self.migration.version is not None else None
        return self.entry.version if self.entry else None

    @property
    def description(self) -> str:
        if self.migration is not None:
            return self.migration.description
        return self.entry.description if self.entry else ""

    @property
    def script(self) -> str:
        if self.migration is not None:
            return self.migration.name
        return self.entry.script if self.entry else ""


@dataclass(frozen=True)
class Plan:
    """Every migration known from the files or the history, in run order."""

    items: tuple[PlanItem, ...]

    def pending(self) -> list[Migration]:
        """What ``up`` runs: pending, failed and out-of-order versioned ones, then repeatables."""
        runnable = ("pending", "failed", "out-of-order")
        return [i.migration for i in self.items if i.state in runnable and i.migration is not None]

    def applied(self) -> list[PlanItem]:
        """Versioned migrations recorded as applied (changed ones included), oldest first."""
        return [
            i
            for i in self.items
            if i.entry is not None and i.entry.kind == "versioned" and i.entry.status == "applied"
        ]

    def drift(self) -> list[PlanItem]:
        return [i for i in self.items if i.state in DRIFT_STATES]

    def interrupted(self) -> list[PlanItem]:
        return [
            i
            for i in self.items
            if i.entry is not None and i.entry.status in ("running", "reverting")
        ]


def build_plan(migrations: Sequence[Migration], entries: Sequence[HistoryEntry]) -> Plan:
    by_key = {e.key: e for e in entries}
    applied_versions = [
        Version.parse(e.version)
        for e in entries
        if e.kind == "versioned" and e.status == "applied" and e.version
    ]
    highest = max(applied_versions, default=None)
    items: list[PlanItem] = []
    seen: set[str] = set()
    for migration in migrations:
        key = key_of(migration)
        seen.add(key)
        entry = by_key.get(key)
        items.append(_item(migration, entry, highest))
    for entry in entries:
        if entry.key not in seen and entry.status != "failed":  # a failure applied nothing
            state: State = "missing" if entry.kind == "versioned" else "applied"
            detail = "file not found" if entry.kind == "versioned" else "file removed"
            items.append(PlanItem(state, None, entry, detail))
    items.sort(key=_order)
    return Plan(tuple(items))


def _item(migration: Migration, entry: HistoryEntry | None, highest: Version | None) -> PlanItem:
    if migration.kind == "repeatable":
        if entry is None:
            return PlanItem("pending", migration, None)
        if entry.checksum != migration.checksum or entry.status != "applied":
            return PlanItem("pending", migration, entry, "changed, will be re-applied")
        return PlanItem("applied", migration, entry)
    if entry is None:
        assert migration.version is not None
        if highest is not None and migration.version < highest:
            return PlanItem(
                "out-of-order", migration, None, f"older than applied version {highest}"
            )
        return PlanItem("pending", migration, None)
    if entry.status == "failed":
        return PlanItem("failed", migration, entry, entry.error or "")
    if entry.status in ("running", "reverting"):
        what = "up" if entry.status == "running" else "down"
        return PlanItem(
            "failed",
            migration,
            entry,
            f"interrupted during {what} after {entry.statements_done} statement(s)",
        )
    if entry.checksum != migration.checksum:
        return PlanItem("changed", migration, entry, "file changed since it was applied")
    return PlanItem("applied", migration, entry)


def _order(item: PlanItem) -> tuple[int, tuple[int, ...], str]:
    if item.migration is not None:
        version = item.migration.version
        if version is None:
            return (1, (), item.script)
        return (0, version.key, item.script)
    if item.entry is None or item.entry.version is None:
        return (1, (), item.script)
    return (0, Version.parse(item.entry.version).key, item.script)
