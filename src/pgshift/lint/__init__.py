"""The migration-safety linter: PostgreSQL's parser, rules that know their context.

Importing this package is cheap: the names below load their modules on first use.

- ``LintOptions``: how to lint (server version, runner, rules, schema source).
- ``lint_paths(paths, options) -> LintReport``: files or directories of migrations.
- ``lint_migrations(pending, options, prior=(), conn=None, catalog=None) -> LintReport``: for
  ``up``.
- ``LintReport`` (``.violations``, ``.errors``) and ``Violation``.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from pgshift.lint.linter import lint_migrations, lint_paths
    from pgshift.lint.options import LintOptions
    from pgshift.lint.report import LintReport
    from pgshift.lint.rule import Rule, Violation

_EXPORTS = {
    "LintOptions": "pgshift.lint.options",
    "LintReport": "pgshift.lint.report",
    "Rule": "pgshift.lint.rule",
    "Violation": "pgshift.lint.rule",
    "lint_migrations": "pgshift.lint.linter",
    "lint_paths": "pgshift.lint.linter",
}
__all__ = [
    "LintOptions",
    "LintReport",
    "Rule",
    "Violation",
    "lint_migrations",
    "lint_paths",
]


def __getattr__(name: str) -> Any:
    module = _EXPORTS.get(name)
    if module is None:
        raise AttributeError(f"module 'pgshift.lint' has no attribute {name!r}")
    from importlib import import_module

    return getattr(import_module(module), name)
