"""``plan_locks``: the locks each migration would take on the database's existing tables, as
the linter reads its SQL against the database's catalog (``pgshift.lint.locks``): what the
app's queries would wait for while it runs.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace
from typing import TYPE_CHECKING

from pgshift.api import _session

if TYPE_CHECKING:
    from pgshift.config import Settings
    from pgshift.migrations.model import Migration


def plan_locks(settings: Settings, migrations: Sequence[Migration], direction: str = "up"
               ) -> dict[str, list[tuple[str, str]]]:
    """For each migration (by label), the locks of SHARE or stronger its up (or down) part
    takes on tables that exist, the strongest per table, as the linter reads the SQL: what the
    app's queries would wait for. Reads the database's catalog; changes nothing."""
    from pgshift.lint import LintOptions, lint_migrations
    from pgshift.lint.catalog_rows import fetch_catalog

    if direction == "down":  # linted as what runs: the down parts, in the order they run
        migrations = [replace(m, up_sql=m.down_sql or "") for m in migrations]

    with _session(settings) as conn:
        catalog = fetch_catalog(conn)
        pg_version = settings.pg_version or conn.server_version // 10000
    options = LintOptions(pg_version=pg_version, lock_timeout=settings.lock_timeout)
    report = lint_migrations(migrations, options, catalog=catalog)
    return {label: _strongest_per_table(locks) for label, locks in report.locks.items()}


def _strongest_per_table(locks: list[tuple[str, str]]) -> list[tuple[str, str]]:
    from pgshift.lint.locks import strongest

    tables = dict.fromkeys(table for table, _ in locks)
    chosen = [strongest([lock for lock in locks if lock[0] == table]) for table in tables]
    return [lock for lock in chosen if lock is not None]
