"""LintReport: the violations of a lint run and the files it could not lint."""

from __future__ import annotations

from dataclasses import dataclass, field

from pgshift.errors import PgshiftError
from pgshift.lint.rule import Violation


@dataclass
class LintReport:
    """``violations`` in file order; ``failures`` are files that could not be linted (syntax
    errors, unreadable files, bad directives); ``cached`` counts files answered from the cache.
    """

    violations: list[Violation] = field(default_factory=list)
    failures: list[PgshiftError] = field(default_factory=list)
    files: int = 0
    cached: int = 0
    # lint_migrations: each migration's (table, mode) locks of SHARE or stronger, by its label.
    locks: dict[str, list[tuple[str, str]]] = field(default_factory=dict)

    @property
    def errors(self) -> list[Violation]:
        return [v for v in self.violations if v.severity == "error"]

    @property
    def warnings(self) -> list[Violation]:
        return [v for v in self.violations if v.severity != "error"]

    @property
    def exit_code(self) -> int:
        """2 when a file could not be linted, 1 with error findings, else 0."""
        if self.failures:
            return 2
        return 1 if self.errors else 0
