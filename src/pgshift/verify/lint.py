"""Lint for verify: the pending migrations' error findings, per migration file.

Uses ``pgshift.lint.lint_migrations`` with the applied migrations as the schema (the scratch
database's empty tables would make every table look small); when the linter is not installed,
lint is skipped with a note rather than failing verify.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

from pgshift.verify.report import Finding

if TYPE_CHECKING:
    from psycopg2.extensions import connection as Connection

    from pgshift.config import Settings
    from pgshift.migrations.model import Migration


def lint_pending(settings: Settings, conn: Connection, pending: Sequence[Migration],
                 prior: Sequence[Migration]) -> tuple[dict[Path, list[Finding]], list[str]]:
    """Findings keyed by the migration's path, and notes (lint skipped or off)."""
    if not pending:
        return {}, []
    if not settings.lint:
        return {}, ["lint is off (lint = false): pending migrations were not linted"]
    try:
        from pgshift.lint import LintOptions, lint_migrations
    except ImportError:
        return {}, ["the linter is not available: pending migrations were not linted"]
    options = LintOptions(
        pg_version=settings.pg_version or conn.server_version // 10000,
        select=frozenset(settings.lint_select) or None,
        ignore=frozenset(settings.lint_ignore),
    )
    # Not the scratch connection: its tables are empty, and the linter forgives DDL on small
    # tables. The applied migrations replayed statically know the schema without the sizes.
    report = lint_migrations(list(pending), options, prior=list(prior))
    owners = _owners(pending)
    found: dict[Path, list[Finding]] = {}
    for violation in report.errors:
        owner = owners.get(_resolved(violation.path))
        if owner is None:
            continue
        where = f"{Path(violation.path).name}:{violation.line}" if violation.line else ""
        found.setdefault(owner, []).append(
            Finding("lint", f"{violation.rule}: {violation.message}", (where,) if where else (),
                    path=str(violation.path) if violation.path else None,
                    line=violation.line or None))
    for failure in getattr(report, "failures", ()):  # files the linter could not read
        owner = owners.get(_resolved(failure.path))
        if owner is not None:
            found.setdefault(owner, []).append(Finding("lint", f"cannot lint: {failure}"))
    return found, []


def _owners(pending: Sequence[Migration]) -> dict[Path, Path]:
    """Each file (up file, separate undo file) -> the path of the migration it belongs to."""
    owners = {}
    for migration in pending:
        owners[_resolved(migration.path)] = migration.path
        if migration.down_path is not None:
            owners[_resolved(migration.down_path)] = migration.path
    return owners


def _resolved(path: Any) -> Path:
    return Path(path).resolve() if path is not None else Path()
