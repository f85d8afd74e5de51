"""Rule, Violation and the rule registry.

A rule is a class with an ``id`` (kebab-case, the module is its snake_case), ``nodes`` (the
parse-tree node types it visits, e.g. ``("IndexStmt",)`` or ``("AlterTableCmd",)``) and
``check(node, ctx)`` yielding Violations. Its docstring is its documentation: what breaks,
which lock, then "Safe way:". ``@register`` adds it to the registry and refuses a duplicate id.
"""

from __future__ import annotations

import inspect
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, ClassVar, Literal

if TYPE_CHECKING:
    from pgshift.lint.context import Context

Severity = Literal["error", "warning", "info"]
Tier = Literal["A", "B", "meta"]


@dataclass(frozen=True)
class Violation:
    """One finding: which rule, how bad, what breaks (message), the safe way (hint), where."""

    rule: str
    severity: Severity
    message: str
    hint: str
    path: Path
    line: int
    column: int
    # Index of the statement it belongs to in its file (for inline ignores); not part of it.
    statement: int = field(default=-1, compare=False, repr=False)

    def to_dict(self) -> dict[str, Any]:
        return {"rule": self.rule, "severity": self.severity, "message": self.message,
                "hint": self.hint, "path": str(self.path), "line": self.line,
                "column": self.column}


class Rule:
    """Base class of every lint rule."""

    id: ClassVar[str] = ""
    nodes: ClassVar[tuple[str, ...]] = ()
    severity: ClassVar[Severity] = "error"
    tier: ClassVar[Tier] = "A"
    # Findings about how long a lock is held (builds, scans, rewrites) matter little on a tiny
    # table: with row counts from a live database they are downgraded to warnings.
    size_matters: ClassVar[bool] = False
    # Findings of statements PostgreSQL refuses to run where they are (the migration fails,
    # and ``pgshift up`` refuses the file before running it): the rule runs whatever the
    # selection, and an inline ignore cannot suppress it.
    always: ClassVar[bool] = False

    def check(self, node: dict[str, Any], ctx: Context) -> Iterator[Violation]:
        """Yield the violations of one visited node (its fields); ``ctx`` knows the rest."""
        return iter(())

    def finish(self, ctx: Context) -> Iterator[Violation]:
        """Yield violations that can only be decided at the end of the file."""
        return iter(())

    @classmethod
    def doc(cls) -> str:
        return inspect.cleandoc(cls.__doc__ or "")

    @classmethod
    def summary(cls) -> str:
        return " ".join(cls.doc().split("\n\n", 1)[0].split())


REGISTRY: dict[str, type[Rule]] = {}


def register(cls: type[Rule]) -> type[Rule]:
    """Class decorator adding a rule to the registry; a duplicate or malformed id is a bug."""
    if not cls.id or cls.id != cls.id.lower() or " " in cls.id or "_" in cls.id:
        raise ValueError(f"rule id must be kebab-case: {cls.id!r}")
    if cls.id in REGISTRY:
        raise ValueError(f"duplicate rule id {cls.id!r}: {REGISTRY[cls.id].__module__} and "
                         f"{cls.__module__}")
    if not cls.__doc__ or "Safe way:" not in cls.__doc__:
        raise ValueError(f"rule {cls.id!r} needs a docstring with a 'Safe way:' section")
    REGISTRY[cls.id] = cls
    return cls


def all_rules() -> dict[str, type[Rule]]:
    """Every registered rule by id (importing the rules package registers them)."""
    import pgshift.lint.rules  # noqa: F401

    return REGISTRY
