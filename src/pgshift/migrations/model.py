"""The Migration model: what a file on disk says, independent of any database."""

from __future__ import annotations

from dataclasses import dataclass, field
from functools import cached_property, lru_cache, total_ordering
from pathlib import Path
from typing import Literal

Phase = Literal["expand", "contract"]
Kind = Literal["versioned", "repeatable", "baseline"]


@total_ordering
@dataclass(frozen=True)
class Version:
    """A migration version such as ``001`` or ``1.2``: compared numerically part by part.

    Trailing zero parts do not count, so ``1``, ``001`` and ``1.0`` are the same version.
    """

    text: str
    parts: tuple[int, ...]
    key: tuple[int, ...] = field(default=(), compare=False)

    @classmethod
    def parse(cls, text: str) -> Version:
        return _parse_version(cls, text)

    @classmethod
    def _parse(cls, text: str) -> Version:
        if text.isdigit():  # most versions are one number: status parses a thousand of them
            parts = (int(text),)
            return cls(text, parts, parts)
        pieces = text.replace("_", ".").split(".")
        if not text or not all(p.isdigit() for p in pieces):
            raise ValueError(f"not a version: {text!r}")
        parts = tuple(int(p) for p in pieces)
        key = parts
        while len(key) > 1 and key[-1] == 0:
            key = key[:-1]
        return cls(text, parts, key)

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Version) and self.key == other.key

    def __lt__(self, other: Version) -> bool:
        return self.key < other.key

    def __gt__(self, other: Version) -> bool:  # total_ordering's would take three calls
        return self.key > other.key

    def __hash__(self) -> int:
        return hash(self.key)

    def __str__(self) -> str:
        return self.text


# Larger than any directory: an LRU cache smaller than the versions a plan cycles through
# (status parses each one several times, in order) would miss on every one of them.
@lru_cache(maxsize=1 << 17)
def _parse_version(cls: type[Version], text: str) -> Version:
    return cls._parse(text)


@dataclass(frozen=True)
class Directives:
    """The ``-- pgshift:NAME`` settings at the top of a file. Durations are in seconds."""

    transactional: bool = True
    irreversible: bool = False
    lock_timeout: float | None = None
    statement_timeout: float | None = None
    timeout: float | None = None
    lock_retries: int | None = None
    phase: Phase | None = None


@dataclass(frozen=True)
class Migration:
    """One migration: a versioned ``V…__….sql`` file, a repeatable ``R__….sql`` file, or a
    baseline ``B…__….sql`` file (the schema as of its version, for new databases: see
    ``pgshift.plan``).

    ``up_sql`` keeps the file's line numbering (line 1 of ``up_sql`` is line 1 of the file);
    ``down_line`` is the file line where ``down_sql`` starts (in ``down_path`` when the down
    part is a separate ``U…`` file).
    """

    kind: Kind
    version: Version | None
    description: str
    path: Path
    checksum: str
    up_sql: str
    down_sql: str | None = None
    down_path: Path | None = None
    down_line: int = 1
    directives: Directives = field(default_factory=Directives)
    # Another tool's down file may run otherwise than its up part (a golang-migrate .down.sql
    # or Flyway U file of its own, dbmate's options per marker); None: as the up part, which
    # a pgshift file's directives always set for both.
    down_transactional: bool | None = None

    @cached_property  # asked for several times per migration run; Path.name is no attribute
    def name(self) -> str:
        return self.path.name

    @cached_property
    def label(self) -> str:
        """How messages name it: the version for versioned files, the file name otherwise."""
        if self.version is None:
            return self.name
        return f"B{self.version}" if self.kind == "baseline" else f"V{self.version}"

    @property
    def reversible(self) -> bool:
        return self.down_sql is not None

    @property
    def transactional(self) -> bool:
        """Whether the up part runs in one transaction (see ``transactional_in``)."""
        return self.directives.transactional

    def transactional_in(self, direction: Literal["up", "down"]) -> bool:
        """Whether the ``direction`` part runs in one transaction."""
        if direction == "down" and self.down_transactional is not None:
            return self.down_transactional
        return self.directives.transactional
