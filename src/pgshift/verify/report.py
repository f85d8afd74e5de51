"""What verify found: a Finding per problem, grouped by migration, with durations and budgets."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Literal

FindingKind = Literal[
    "failed",      # up or down raised an error
    "roundtrip",   # down did not restore the schema from before up
    "repeatable",  # up after down did not give the schema from after the first up
    "budget",      # the migration took longer than its budget
    "lint",        # a lint finding at error severity
    "compat",      # a query that worked before the migration fails after it
    "plan",        # a query's plan lost an index scan or grew too costly
    "irreversible",  # a note: no down to check (never a failure)
    "column-order",  # a note: down put columns back, last (never a failure)
]
NOTES: tuple[str, ...] = ("irreversible", "column-order")


@dataclass(frozen=True)
class Finding:
    """One problem: its kind, a one-line message and detail lines (a schema diff, an error);
    where it points, for tools: a file (the migration's, the queries file) and line, and the
    application's query it is about, in full."""

    kind: FindingKind
    message: str
    detail: tuple[str, ...] = ()
    path: str | None = None
    line: int | None = None
    query: str | None = None

    @property
    def is_failure(self) -> bool:
        return self.kind not in NOTES

    def as_json(self) -> dict[str, Any]:
        return {"kind": self.kind, "message": self.message, "detail": list(self.detail),
                "failure": self.is_failure, "path": self.path, "line": self.line,
                "query": self.query}


@dataclass
class MigrationCheck:
    """One pending migration's results on the scratch database."""

    label: str
    script: str
    description: str
    budget_s: float
    up_ms: float | None = None
    down_ms: float | None = None
    findings: list[Finding] = field(default_factory=list)
    path: str | None = None  # the migration's file

    @property
    def ok(self) -> bool:
        return not any(f.is_failure for f in self.findings)

    def as_json(self) -> dict[str, Any]:
        return {"migration": self.label, "script": self.script, "description": self.description,
                "ok": self.ok, "up_ms": _round(self.up_ms), "down_ms": _round(self.down_ms),
                "budget_s": None if self.budget_s == float("inf") else self.budget_s,
                "findings": [f.as_json() for f in self.findings], "path": self.path}


@dataclass
class VerifyReport:
    """Everything ``verify`` did: where, what it replayed, and each pending migration's checks."""

    scratch: str
    replayed: list[str] = field(default_factory=list)
    copied_from: str | None = None  # with --from: the (password-free) source of the schema
    migrations: list[MigrationCheck] = field(default_factory=list)
    queries: int = 0
    notes: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return all(m.ok for m in self.migrations)

    def failures(self) -> list[tuple[MigrationCheck, Finding]]:
        return [(m, f) for m in self.migrations for f in m.findings if f.is_failure]

    def as_json(self) -> dict[str, Any]:
        return {"ok": self.ok, "scratch": self.scratch, "replayed": self.replayed,
                "copied_from": self.copied_from,
                "queries": self.queries, "notes": self.notes,
                "failures": len(self.failures()),
                "migrations": [m.as_json() for m in self.migrations]}

    def summary(self) -> str:
        failures = self.failures()
        if not failures:
            return f"verify passed: {len(self.migrations)} pending migration(s) checked"
        broken = sorted({m.label for m, _ in failures})
        return (f"verify failed: {len(failures)} problem(s) in {', '.join(broken)} "
                f"(first: {failures[0][0].label}: {failures[0][1].message})")


def _round(value: float | None) -> float | None:
    return None if value is None else round(value, 1)
