"""Files x history -> Plan: what is applied, pending, failed, changed, missing or out of order.

Baseline migrations (``B{version}__….sql``, written by ``pgshift squash``) build the schema as
it stands after their version, so that a new database need not replay years of migrations, as
Flyway's baseline migrations, Django's squashed migrations and Rails' schema load do:

- A database with no migration yet is built from the newest baseline (the newest at or below
  ``up --to``): the versioned files up to its version are ``below-baseline`` there, never run.
- A database built from a baseline keeps its row; the versioned files up to its version stay
  ``below-baseline``, and later ones run as usual.
- A database that ran versioned migrations before the baseline existed never runs it: the
  baseline is ``unused`` there. Its applied rows whose files were deleted after the squash are
  ``applied`` (squashed into the baseline), not missing.
- A database behind a baseline it does not run never runs the migrations after it unless it has
  every migration the baseline holds, applied or as a file it can still run: lacking one (its
  file deleted too soon) makes the baseline ``missing`` (drift), never a silent gap.
- What a baseline holds is what its header says (``pgshift.migrations.holding``): a versioned
  file below it that it does not hold was added after it was written, and runs after it (out of
  order on a database built from it, as on one that ran the migrations).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, replace
from typing import Literal

from pgshift.errors import DriftError, InputError, IrreversibleError
from pgshift.migrations.holding import read_holding
from pgshift.migrations.model import Migration, Version
from pgshift.state.history import HistoryEntry, key_of

# "changed-above-stop": a no-transaction migration interrupted part-way whose file was edited
# in the statements that ran (see ``part_way.edits_above_stops``).
State = Literal["applied", "pending", "failed", "changed", "changed-above-stop", "missing",
                "out-of-order", "below-baseline", "unused"]
DRIFT_STATES = ("changed", "changed-above-stop", "missing", "out-of-order")
# History rows of migrations run in version order (a baseline's version is the last it holds).
ORDERED_KINDS = ("versioned", "baseline")


@dataclass(frozen=True)
class PlanItem:
    """One migration's state: its file (None when missing) and its history row (None if never)."""

    state: State
    migration: Migration | None
    entry: HistoryEntry | None
    detail: str = ""
    hint: str = ""  # what to do about it, when the state's usual hint does not fit
    line: int | None = None  # the line of its file it points at, when one is to blame

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
    def kind(self) -> str | None:
        if self.migration is not None:
            return self.migration.kind
        return self.entry.kind if self.entry else None

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
        """Versioned (and baseline) migrations recorded as applied (changed ones included),
        oldest first."""
        return [
            i
            for i in self.items
            if i.entry is not None and i.entry.kind in ORDERED_KINDS
            and i.entry.status == "applied"
        ]

    def drift(self) -> list[PlanItem]:
        return [i for i in self.items if i.state in DRIFT_STATES]

    def interrupted(self) -> list[PlanItem]:
        return [
            i
            for i in self.items
            if i.entry is not None and i.entry.status in ("running", "reverting")
        ]

    def part_way(self) -> list[PlanItem]:
        """No-transaction migrations (still so) interrupted after some of their statements
        ran, with their file: the next run of that direction goes on after those."""
        return [i for i in self.interrupted() if i.entry is not None and i.migration is not None
                and i.entry.statements_done
                and not i.migration.transactional_in(_direction_of(i.entry))]


def build_plan(migrations: Sequence[Migration], entries: Sequence[HistoryEntry]) -> Plan:
    by_key = {e.key: e for e in entries}
    applied_versions = [
        Version.parse(e.version)
        for e in entries
        if e.kind in ORDERED_KINDS and e.status == "applied" and e.version
    ]
    highest = max(applied_versions, default=None)
    baselines = [m for m in migrations if m.kind == "baseline"]
    base = _base(baselines, entries) if baselines else None
    late = _late(migrations, by_key, base, baselines)
    behind = _Behind(highest, frozenset(
        Version.parse(e.version) for e in entries
        if e.kind == "versioned" and e.status == "applied" and e.version), frozenset(
        m.version for m in migrations if m.kind == "versioned" and m.version is not None))
    items: list[PlanItem] = []
    seen: set[str] = set()
    for migration in migrations:
        key = key_of(migration)
        seen.add(key)
        entry = by_key.get(key)
        if base is not None and entry is None and migration.name not in (late or ()):
            covered = _against_base(migration, base, behind)
            if covered is not None:
                items.append(covered)
                continue
        if migration.kind == "baseline" and entry is None:
            items.append(behind.unused(migration, None))
            continue
        item = _item(migration, entry, highest)
        if late and migration.name in late and item.state == "out-of-order":
            assert base is not None
            item = replace(item, detail=f"not in {base[1]}: added below it after it was written")
        items.append(item)
    for entry in entries:
        if entry.key not in seen and entry.status != "failed":  # a failure applied nothing
            items.append(_without_file(entry, baselines))
    if late is None:  # only where the baseline decides what runs
        assert base is not None
        items = [_undecidable(i) if i.script == base[1] else i for i in items]
    after_base = (base[0], late or frozenset()) if base is not None else None
    items.sort(key=lambda i: _order(i, after_base))
    return Plan(tuple(items))


Base = tuple[Version, str]  # the version and file name of the baseline a database is built from


def _base(baselines: Sequence[Migration], entries: Sequence[HistoryEntry]) -> Base | None:
    """The baseline this database was built from (its history has the row), or will be (it has
    run no migration yet: the newest); None when it ran versioned migrations instead."""
    built = [e for e in entries if e.kind == "baseline" and e.version]
    if built:
        entry = max(built, key=lambda e: Version.parse(e.version or "").key)
        return Version.parse(entry.version or ""), entry.script
    if any(e.kind == "versioned" and e.status != "failed" for e in entries):
        return None
    newest = max(baselines, key=lambda m: m.version.key if m.version else ())
    assert newest.version is not None
    return newest.version, newest.name


def _late(migrations: Sequence[Migration], by_key: dict[str, HistoryEntry], base: Base | None,
          baselines: Sequence[Migration]) -> frozenset[str] | None:
    """The versioned files up to the version of the baseline this database is (or will be)
    built from that it does not hold, as its header says: added below it after it was written,
    they run after it (a database built from it needs --out-of-order for them, as for any late
    file). None when its header cannot tell them from those it holds."""
    if base is None:
        return frozenset()
    baseline = next((b for b in baselines if b.name == base[1]), None)
    holding = read_holding(baseline) if baseline is not None else None
    if holding is None:
        return frozenset()
    rowless = [m for m in migrations if m.kind == "versioned" and m.version is not None
               and m.version <= base[0] and key_of(m) not in by_key]
    versions = [m.version for m in rowless if m.version is not None]
    late = set()
    for migration in rowless:
        assert migration.version is not None
        held = holding.holds(migration.version, versions)
        if held is None:
            return None
        if not held:
            late.add(migration.name)
    return frozenset(late)


def _undecidable(item: PlanItem) -> PlanItem:
    """The baseline a database is built from when more files are in its range than it holds."""
    return replace(item, state="changed", detail="more files below it than it holds: one added "
                   "after it was written cannot be told from those it holds",
                   hint="give a migration added after the baseline a version above it (rename "
                   "the file), or squash again")


def _against_base(migration: Migration, base: Base, behind: _Behind) -> PlanItem | None:
    """The state of a file with no history row that the baseline decides: the baseline itself
    (to run), another one, or a versioned file it holds; None for the others."""
    version, name = base
    if migration.version is None:
        return None
    if migration.kind == "baseline":
        if migration.name == name:
            return PlanItem("pending", migration, None)
        if migration.version > version:  # built from an older one: this one holds more
            return behind.unused(migration, version, f"{name} builds this database")
        return PlanItem("unused", migration, None, f"{name} builds this database")
    if migration.version <= version:
        return PlanItem("below-baseline", migration, None, f"in {name}")
    return None


@dataclass(frozen=True)
class _Behind:
    """What a database that did not run a baseline has of what it holds: the highest version
    it ran, the versioned migrations it ran, and those it has a file for."""

    highest: Version | None
    applied: frozenset[Version]
    files: frozenset[Version]

    def unused(self, baseline: Migration, floor: Version | None,
               detail: str = "this database ran the versioned migrations instead") -> PlanItem:
        """A baseline this database does not run. Behind it, it may run the migrations after
        it only when it has every one the baseline holds (applied, or as a file): one whose
        file was deleted too soon would be skipped, a silent gap. That is drift (missing)."""
        gap = self.gap(baseline, floor)
        if gap:
            return PlanItem("missing", baseline, None, gap,
                            hint="restore the versioned files it holds from version control to "
                            "bring this database up, or build the database again from the "
                            "baseline")
        return PlanItem("unused", baseline, None, detail)

    def gap(self, baseline: Migration, floor: Version | None) -> str:
        """Why this database cannot pass ``baseline`` (built from the one of version ``floor``,
        if any), or empty."""
        version = baseline.version
        assert version is not None
        if self.highest is None or self.highest >= version:
            return ""
        holding = read_holding(baseline)
        if holding is not None:
            lacking = holding.lacks(self.applied | self.files, floor)
            if not lacking:
                return ""
            gone = ("its file is" if len(lacking) == 1 and lacking[0].startswith("V")
                    else "their files are")
            return (f"this database has not run {', '.join(lacking)}, which {baseline.name} "
                    f"holds, and {gone} gone")
        # A hand-written baseline says nothing of what it holds (it may hold versions no file
        # ever had): its files all gone, or none left between this database and it while
        # migrations after it wait, is a gap.
        highest, files = self.highest, self.files
        after = any(v > version and v not in self.applied for v in files)
        if not any(v <= version for v in files) or (
                after and not any(highest < v <= version for v in files)):
            return (f"this database ran migrations up to {highest} only, and the files "
                    f"{baseline.name} holds after that are gone")
        return ""

def _without_file(entry: HistoryEntry, baselines: Sequence[Migration]) -> PlanItem:
    """A history row whose file is gone: missing, unless a baseline squashed it."""
    if entry.kind == "repeatable":
        return PlanItem("applied", None, entry, "file removed")
    if entry.version:
        version = Version.parse(entry.version)
        squashed = [b for b in baselines if b.version is not None and b.version >= version
                    and b.name != entry.script]
        if squashed:
            return PlanItem("applied", None, entry, f"file squashed into {squashed[0].name}")
    return PlanItem("missing", None, entry, "file not found")


def _first_line(text: str, limit: int = 160) -> str:
    line = (text.strip().splitlines() or [""])[0]
    return line if len(line) <= limit else line[:limit - 1] + "…"


def _direction_of(entry: HistoryEntry) -> Literal["up", "down"]:
    """The direction an interrupted row's run went (and the next one goes on)."""
    return "down" if entry.status == "reverting" else "up"


def _item(migration: Migration, entry: HistoryEntry | None, highest: Version | None) -> PlanItem:
    if migration.kind == "repeatable":
        if entry is None:
            return PlanItem("pending", migration, None)
        if entry.checksum != migration.checksum or entry.status != "applied":
            detail = "changed, will be re-applied"
            if entry.status == "applied" and entry.error:  # its new text failed last time
                detail += f"; the last attempt failed: {_first_line(entry.error)}"
            return PlanItem("pending", migration, entry, detail)
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


def _order(item: PlanItem, after_base: tuple[Version, frozenset[str]] | None
           ) -> tuple[int, tuple[int, ...], int, str]:
    """Version order, a baseline after the versioned migration of its version; repeatables
    last. ``after_base``: the version of the baseline a database is built from and the files
    below it that it does not hold, which run right after it when it is to run."""
    if item.migration is not None:
        version = item.migration.version
        if version is None:
            return (1, (), 0, item.script)
        if (after_base is not None and item.script in after_base[1] and item.state == "pending"
                and item.entry is None):
            return (0, after_base[0].key, 2, item.script)
        return (0, version.key, int(item.migration.kind == "baseline"), item.script)
    if item.entry is None or item.entry.version is None:
        return (1, (), 0, item.script)
    return (0, Version.parse(item.entry.version).key, int(item.entry.kind == "baseline"),
            item.script)


# -- what a run selects from a Plan ---------------------------------------------------------


def parse_target(text: str | None) -> Version | None:
    if text is None:
        return None
    try:
        return Version.parse(text.lstrip("Vv"))
    except ValueError:
        raise InputError(
            f"not a version: '{text}'", hint="use the number from the file name, e.g. 003 or 1.2"
        ) from None


def select_up(plan: Plan, target: Version | None) -> list[Migration]:
    pending = plan.pending()
    if target is None:
        return pending
    known = {i.migration.version for i in plan.items if i.migration and i.migration.version}
    if target not in known:
        raise InputError(f"no migration with version {target}", hint="see 'pgshift status'")
    base = next((m for m in pending if m.kind == "baseline"), None)
    if base is not None and base.version is not None and target < base.version:
        return _below_newest_baseline(plan, target)
    # Repeatables run only with a full 'up': they may depend on the latest versioned ones.
    return [m for m in pending if m.version is not None and m.version <= target]


def _below_newest_baseline(plan: Plan, target: Version) -> list[Migration]:
    """A new database brought only to ``target``, below its newest baseline: the newest
    baseline at or below ``target`` (if any), then the versioned files after it."""
    start = max((i.migration for i in plan.items if i.migration is not None
                 and i.migration.kind == "baseline" and i.migration.version is not None
                 and i.migration.version <= target),
                key=lambda m: m.version.key if m.version else (), default=None)
    after = start.version if start is not None else None
    return [*([start] if start is not None else []), *(
        i.migration for i in plan.items
        if i.migration is not None and i.migration.kind == "versioned"
        and i.state in ("pending", "below-baseline", "failed")
        and i.migration.version is not None and i.migration.version <= target
        and (after is None or i.migration.version > after))]


def select_down(
    plan: Plan, *, steps: int | None, to: Version | None, everything: bool
) -> list[Migration]:
    for item in plan.interrupted():
        if item.entry and item.entry.status == "running":
            # Its statements ran only in part: rolling back the migrations under it could drop
            # what it half built (an index with its table), and the next up would then "finish"
            # it without them. Finish it first.
            raise DriftError(
                f"{item.detail}; finish it before rolling anything back",
                path=item.migration.path if item.migration else None,
                migration=item.script,
                hint="'pgshift up' resumes it; or undo its statements by hand and clear it with "
                "'pgshift repair'",
            )
    if to is not None and to.key and any(to.key) and to not in {
            Version.parse(i.version) for i in plan.items if i.version}:
        # as 'up --to' does: a typo must not read as "nothing above it" (0 means everything)
        raise InputError(f"no migration with version {to}", hint="see 'pgshift status'")
    # A missing file's row counts: rolling back past it is refused below, before anything runs,
    # rather than skipped (the database would not end at the version asked for).
    applied = [i for i in plan.applied() if i.state in ("applied", "changed", "missing")]
    interrupted = [i for i in plan.interrupted() if i.entry and i.entry.status == "reverting"]
    applied = sorted([*applied, *interrupted], key=lambda i: Version.parse(i.version or "0"))
    if to is not None:
        chosen = [i for i in applied if Version.parse(i.version or "0") > to]
    elif everything:
        chosen = applied
    else:
        count = 1 if steps is None else steps
        if count < 1:
            raise InputError(f"--steps must be at least 1, not {count}",
                             hint="--all rolls back everything; --to V down to V")
        chosen = applied[-count:]
    chosen.reverse()
    for item in chosen:
        if item.migration is None:
            raise DriftError(
                f"cannot roll back {item.script}: its file is missing",
                hint="restore the file from version control",
            )
        if item.migration.directives.irreversible:
            raise IrreversibleError(
                "is irreversible (it has no down part); it cannot be rolled back",
                path=item.migration.path,
                migration=item.migration.label,
                hint="this database was built from a baseline: below it there is only an empty "
                "database (make a new one)" if item.migration.kind == "baseline"
                else "write a new migration that undoes it instead",
            )
        if item.migration.down_sql is None:
            raise IrreversibleError(
                "has no down part", path=item.migration.path, migration=item.migration.label
            )
    return [i.migration for i in chosen if i.migration is not None]


def refuse_drift(plan: Plan, *, allow_out_of_order: bool) -> None:
    for item in plan.drift():
        if item.state == "out-of-order" and allow_out_of_order:
            continue
        raise drift_error(item)
    for item in plan.interrupted():
        if item.entry and item.entry.statements_done and item.migration is not None and (
                item.migration.transactional_in(
                    "up" if item.entry.status == "running" else "down")):
            raise DriftError(
                f"{item.detail}, as a no-transaction file; it is transactional now, and would "
                "run again from its first statement",
                path=item.migration.path, migration=item.script,
                hint="put '-- pgshift:no-transaction' (or the tool's own way) back until it is "
                     "finished")
        if item.entry and item.entry.status == "reverting":
            raise DriftError(
                f"{item.detail}",
                path=item.migration.path if item.migration else None,
                migration=item.script,
                hint="finish it with 'pgshift down' (it goes on where it stopped); if none of "
                     "its down part ran, 'pgshift repair' marks it applied again",
            )


_DRIFT_HINTS = {
    "changed": "an applied migration was edited: revert the edit, or accept it with "
    "'pgshift repair' after a careful look",
    "missing": "restore the file, or remove the row with 'pgshift repair --remove-missing'",
    "out-of-order": "rename it above the latest applied version, or pass --out-of-order",
}


def drift_error(item: PlanItem) -> DriftError:
    """What is wrong with a drifted migration (``Plan.drift``), where, and what to do."""
    path = item.migration.path if item.migration else None
    message = f"{item.state}: {item.detail}"
    if item.state == "changed-above-stop":
        from pgshift.part_way import above_stop_message

        message, path = above_stop_message(item)
    return DriftError(message, hint=item.hint or _DRIFT_HINTS[item.state], path=path,
                      line=item.line, migration=item.script)
