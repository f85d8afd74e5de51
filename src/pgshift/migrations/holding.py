"""What a baseline file holds: the migrations it stands for, as far as the file says.

``pgshift squash`` heads each baseline with the first and the last migration it was built from
and how many there were (``-- The database that V001__a.sql … V004__d.sql (4 migrations)
build``). The plan needs that to tell a file the baseline holds from one added below it later
(a hotfix merged from an old branch), and to tell a database that lacks some of what it holds
(files deleted too soon) from one that lacks nothing. Its ``-- Holds:`` lines name every one;
a header without them (squash's first files) names only the first and the last, and those
between are counted: while the files between them number no more than the header says, each
is held; more, and the files cannot be told apart.

A hand-written baseline (Flyway's ``B`` files) says nothing, and is taken to hold every version
up to its own, as Flyway takes it.
"""

from __future__ import annotations

import re
from collections.abc import Collection
from dataclasses import dataclass

from pgshift.migrations.model import Migration, Version

_HEADER = re.compile(r"-- The database that (?P<first>\S+)(?: … (?P<last>\S+))? "
                     r"\((?P<count>\d+) migrations?\) build")
_NAME = re.compile(r"(?P<prefix>[VB])(?P<version>\d+(?:[._]\d+)*)__")
_LABEL = re.compile(r"[VB]\d+(?:[._]\d+)*")


@dataclass(frozen=True)
class Holding:
    """The migrations a baseline says it holds: ``count`` of them, from ``first`` to ``last``
    (its own version). ``from_baseline``: the first is an older baseline, which holds every
    version up to its own."""

    first: Version
    last: Version
    count: int
    from_baseline: bool
    versions: frozenset[Version] | None = None  # each one, when the header names them

    def holds(self, version: Version, rowless: Collection[Version]) -> bool | None:
        """Whether it holds the file of ``version``, one of ``rowless`` (the versions, up to
        the baseline's, of the files a database has no row for); None when it cannot tell."""
        if version > self.last:
            return False
        if version <= self.first:
            return version == self.first or self.from_baseline
        if version == self.last:
            return True
        if self.versions is not None:
            return version in self.versions
        if self.count <= 2:  # nothing between the first and the last
            return False
        between = [v for v in rowless if self.first < v < self.last]
        return True if len(between) <= self.count - 2 else None

    def lacks(self, have: Collection[Version], floor: Version | None) -> list[str]:
        """What a database that has the versions ``have`` (applied, or as files it can run;
        every one up to ``floor`` when it was built from a baseline) lacks of what this one
        holds, in words; empty when it lacks nothing."""
        def has(version: Version) -> bool:
            return version in have or (floor is not None and version <= floor)

        named = sorted(self.versions) if self.versions is not None else (self.first, self.last)
        ends = dict.fromkeys(v for v in named
                             if not has(v) and not (v == self.first and self.from_baseline))
        lacking = [f"V{v}" for v in ends]
        if self.versions is not None:
            return lacking
        # Built from a baseline above the first, it has an unknown share of those between.
        if self.count > 2 and (floor is None or floor <= self.first):
            found = {v for v in have if self.first < v < self.last}
            if len(found) < self.count - 2:
                lacking.append(f"{self.count - 2 - len(found)} of the migrations between "
                               f"V{self.first} and V{self.last}")
        return lacking


def read_holding(baseline: Migration) -> Holding | None:
    """The holding its header states (only its leading comment lines are read); None for a
    hand-written baseline."""
    head = []
    for line in baseline.up_sql.split("\n"):
        if line.strip() and not line.lstrip().startswith("--"):
            break
        head.append(line)
    found = _HEADER.search("\n".join(head))
    if found is None or baseline.version is None:
        return None
    first = _NAME.match(found["first"])
    if first is None:
        return None
    labels = [label for line in head if line.startswith("-- Holds:")
              for label in line[len("-- Holds:"):].split()]
    versions = frozenset(Version.parse(label[1:]) for label in labels
                         if _LABEL.fullmatch(label)) if labels else None
    return Holding(Version.parse(first["version"]), baseline.version, int(found["count"]),
                   first["prefix"] == "B", versions)
