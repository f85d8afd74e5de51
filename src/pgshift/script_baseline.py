"""The SQL conditions a psql script (``pgshift.script``) reads from a database's history where
baselines are involved, deciding as ``pgshift.plan`` decides: whether a baseline applied there
holds a migration, and whether a database behind a baseline has all that it holds.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from pgshift.migrations.holding import read_holding
from pgshift.state import history

if TYPE_CHECKING:
    from pgshift.migrations.model import Migration, Version

# A history row's version as an int[] (a baseline's key is 'B:<version>').
_ORDERED = ("(CASE WHEN kind = 'baseline' THEN string_to_array(substr(key, 3), '.') "
            "ELSE string_to_array(key, '.') END)::int[]")


@dataclass
class BaselineGuards:
    """``table``: the history table as SQL; ``literal``: a value as SQL; ``files``: the
    versioned files in the script; ``baselines``: the baselines in it."""

    table: str
    literal: Callable[[Any], str]
    files: list[Version] = field(default_factory=list)
    baselines: list[Migration] = field(default_factory=list)

    def holds(self, migration: Migration) -> str:
        """SQL: a baseline applied here holds ``migration`` (its version is not above it, and
        it is not one that the baseline's header says it does not hold: added below it after
        it was written, see ``pgshift.migrations.holding``)."""
        assert migration.version is not None
        version = migration.version
        without = [history.key_of(b) for b in self.baselines if b.version is not None
                   and version <= b.version and (holding := read_holding(b)) is not None
                   and holding.holds(version, [v for v in self.files if v <= b.version])
                   is False]
        other = "".join(f" AND key <> {self.literal(key)}" for key in without)
        return (f"EXISTS (SELECT FROM {self.table} WHERE kind = 'baseline' AND status = "
                f"'applied' AND string_to_array(substr(key, 3), '.')::int[] >= "
                f"{array(version)}{other})")

    def path_open(self, baseline: Migration) -> str:
        """SQL: the script may run here as far as ``baseline`` goes: a new database, one past
        it, or one behind it that has what it holds (else the migrations after it would run
        over a gap, which ``up`` refuses)."""
        assert baseline.version is not None
        highest = (f"(SELECT max({_ORDERED}) FROM {self.table} WHERE kind IN ('versioned', "
                   "'baseline') AND status = 'applied')")
        free = f"coalesce({highest} >= {array(baseline.version)}, true)"  # new, or past it
        return f"{free} OR {self._has_held(baseline, highest)}"

    def _has_held(self, baseline: Migration, highest: str) -> str:
        """SQL: a database behind ``baseline`` has what it holds, applied or in the script (as
        ``pgshift.plan`` decides it)."""
        assert baseline.version is not None
        holding = read_holding(baseline)
        if holding is None:  # hand-written: see _Behind.gap in pgshift.plan
            below = [v for v in self.files if v <= baseline.version]
            if not below:
                return "false"
            if not any(v > baseline.version for v in self.files):
                return "true"
            return f"{highest} < {array(max(below))}"
        built = (f"(SELECT max(string_to_array(substr(key, 3), '.')::int[]) FROM {self.table} "
                 "WHERE kind = 'baseline' AND status = 'applied')")
        parts = []
        for version in dict.fromkeys((holding.first, holding.last)):
            if version in self.files or (version == holding.first and holding.from_baseline):
                continue
            parts.append(f"(EXISTS (SELECT FROM {self.table} WHERE key = "
                         f"{self.literal(history.version_key(version))} AND status = 'applied') "
                         f"OR coalesce({built} >= {array(version)}, false))")
        if holding.count > 2:  # those between are counted, as the plan counts them
            first, last = array(holding.first), array(holding.last)
            files = "".join(f" UNION VALUES ({array(v)})" for v in self.files)
            parts.append(
                f"(coalesce({built} > {first}, false) OR (SELECT count(*) FROM (SELECT "
                f"string_to_array(key, '.')::int[] AS v FROM {self.table} WHERE kind = "
                f"'versioned' AND status = 'applied'{files}) AS had WHERE v > {first} AND "
                f"v < {last}) >= {holding.count - 2})")
        return "(" + " AND ".join(parts or ["true"]) + ")"


def array(version: Version) -> str:
    """SQL: a version as an int[] that compares as versions do."""
    return f"ARRAY[{', '.join(str(p) for p in version.key)}]::int[]"
