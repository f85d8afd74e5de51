"""The statements each direction of a Migration runs, parsed once and remembered: what the
runner runs, and what ``up`` and ``down`` check before running anything.
"""

from __future__ import annotations

from functools import lru_cache
from typing import TYPE_CHECKING, Literal

from pgshift.errors import InputError
from pgshift.migrations.statements import Statement, statements_of

if TYPE_CHECKING:
    from pgshift.migrations.model import Migration

Direction = Literal["up", "down"]


def body_statements(migration: Migration, direction: Direction) -> list[Statement]:
    """The statements one direction of ``migration`` runs, parsed before anything runs.

    Remembered (a failure is not): ``up`` checks every file before running any, then runs them.
    """
    return list(_body_statements(migration, direction))


# Sized for the largest directories: 'up' splits every file it runs before running any, and an
# LRU cache smaller than that would have dropped the first by the time they run.
_REMEMBERED = 1 << 16


@lru_cache(maxsize=_REMEMBERED)
def session_settings_of(migration: Migration, direction: Direction) -> tuple[str, ...]:
    """What that direction SETs for the whole session (``SET x``, not ``SET LOCAL x``), which
    the runner undoes after it (``migrations.statements.session_settings``)."""
    from pgshift.migrations.statements import session_settings

    return session_settings(body_statements(migration, direction))


@lru_cache(maxsize=_REMEMBERED)
def _body_statements(migration: Migration, direction: Direction) -> tuple[Statement, ...]:
    if direction == "up":
        source, path, first = migration.up_sql, migration.path, 1
    else:
        if migration.down_sql is None:
            raise InputError("has no down part", path=migration.path, migration=migration.label)
        source = migration.down_sql
        path = migration.down_path or migration.path
        first = migration.down_line
    if "${" in source:  # a ${name} without a value (the module only for files that have one)
        from pgshift.placeholders import check_resolved

        check_resolved(source, path, first_line=first)
    return tuple(
        statements_of(source, path, first_line=first,
                      transactional=migration.transactional_in(direction))
    )

