"""The emergency rollback's plan: which migrations go down to reach a version, and whether all can.

Nothing runs here. ``plan_rollback`` lists the applied migrations above the target, newest first
(the order their downs run), and marks each one that cannot go down: marked irreversible, no down
part, or its file missing. ``RollbackPlan.check()`` refuses the whole rollback when any is, so
an irreversible migration in the way stops it before anything runs. The downs themselves are
``api.down(to=...)``: same lock, lock_timeout, retries and budgets as ``up``.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from pgshift.errors import InputError, IrreversibleError
from pgshift.migrations.model import Version
from pgshift.plan import ORDERED_KINDS

if TYPE_CHECKING:
    from pgshift.plan import Plan, PlanItem


@dataclass(frozen=True)
class RollbackStep:
    """One migration to roll back; ``blocker`` says why it cannot be, when it cannot."""

    item: PlanItem
    blocker: str | None = None

    @property
    def label(self) -> str:
        if not self.item.version:
            return self.item.script
        return f"{'B' if self.item.kind == 'baseline' else 'V'}{self.item.version}"

    @property
    def transactional(self) -> bool:
        return self.item.migration.transactional_in("down") if self.item.migration else True


@dataclass(frozen=True)
class RollbackPlan:
    """The downs that take the database to ``target``, newest first."""

    target: Version
    current: str | None
    steps: tuple[RollbackStep, ...]
    left_alone: tuple[PlanItem, ...]
    # Migrations at or below the target that are not applied (added out of order, or failed):
    # with them the database ends up at ``reached``, the newest applied one, not at the target.
    unapplied: tuple[PlanItem, ...] = ()
    reached: str | None = None

    @property
    def ends_at(self) -> str:
        """The version the database is at once the steps have run."""
        return (self.reached or "0") if self.unapplied else str(self.target)

    @property
    def blocked(self) -> list[RollbackStep]:
        return [s for s in self.steps if s.blocker is not None]

    def check(self) -> None:
        """Raise IrreversibleError when any migration in the way cannot be rolled back."""
        blocked = self.blocked
        if not blocked:
            return
        first = blocked[0]
        more = f" (and {len(blocked) - 1} more)" if len(blocked) > 1 else ""
        path = first.item.migration.path if first.item.migration else None
        undo = ("make a new database for an older version" if first.item.kind == "baseline"
                else "write a new migration that undoes the change")
        raise IrreversibleError(
            f"cannot roll back to {self.target}: {first.label} {first.blocker}{more}; "
            "nothing was rolled back",
            path=path, migration=first.label,
            hint=f"roll back only to {first.item.version} or above, or {undo}",
        )


def plan_rollback(plan: Plan, to: str) -> RollbackPlan:
    """The rollback plan from the current ``plan`` down to version ``to`` (``0``: all)."""
    target = _target(plan, to)
    above = [i for i in plan.items if i.entry is not None and i.entry.kind in ORDERED_KINDS
             and i.version is not None and Version.parse(i.version) > target]
    runnable = [i for i in above if i.entry is not None and (
        i.entry.status == "applied" or i.entry.status == "reverting")]
    runnable.sort(key=lambda i: Version.parse(i.version or "0"), reverse=True)
    left = tuple(i for i in above if i not in runnable)
    applied = plan.applied()
    below = [i for i in applied if Version.parse(i.version or "0") <= target]
    reached = max(below, key=lambda i: Version.parse(i.version or "0")).version if below else None
    floor = Version.parse(reached or "0")
    unapplied = tuple(i for i in plan.items if i.kind == "versioned" and i.version is not None
                      and i.state in ("pending", "failed", "out-of-order")
                      and floor < Version.parse(i.version) <= target)
    return RollbackPlan(target, applied[-1].version if applied else None,
                        tuple(RollbackStep(i, _blocker(i)) for i in runnable), left,
                        unapplied, reached)


def _target(plan: Plan, to: str) -> Version:
    try:
        target = Version.parse(to.lstrip("Vv"))
    except ValueError:
        raise InputError(f"not a version: '{to}'", hint="use the number from the file name, "
                         "e.g. 003 or 1.2; 0 rolls back everything") from None
    known = {Version.parse(i.version) for i in plan.items if i.version is not None}
    if target.key != (0,) and target not in known:
        raise InputError(f"no migration with version {to}", hint="see 'pgshift status'")
    return target


def _blocker(item: PlanItem) -> str | None:
    migration = item.migration
    if migration is None:
        return "has no file (restore it from version control)"
    if migration.kind == "baseline":  # built from it: below it there is no database to be at
        return ("is the baseline this database was built from: below it there is only an "
                "empty database")
    if migration.directives.irreversible:
        return "is marked irreversible"
    if migration.down_sql is None:
        return "has no down part"
    return None
