"""Recovery for interrupted ``CREATE INDEX CONCURRENTLY`` (and ``DROP INDEX CONCURRENTLY``).

A failed or killed concurrent build leaves an INVALID index behind. ``IF NOT EXISTS`` would then
skip it and leave the table without a usable index, so before such a build we look the index up:
an INVALID one is dropped (concurrently) and rebuilt; a valid one at the statement we resume at
means the build finished before the progress was recorded, so it is not run again. Likewise a
``DROP INDEX CONCURRENTLY`` we resume at whose index is already gone is not run again.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from psycopg2 import sql

from pgshift.migrations.statements import Statement

_LOOKUP = """
SELECT i.indisvalid, n.nspname, c.relname
FROM pg_class c JOIN pg_index i ON i.indexrelid = c.oid
JOIN pg_namespace n ON n.oid = c.relnamespace
WHERE c.relname = %(name)s AND c.relkind IN ('i', 'I')
  AND n.nspname = coalesce(%(schema)s, (
      SELECT nspname FROM pg_namespace t JOIN pg_class r ON r.relnamespace = t.oid
      WHERE r.oid = to_regclass(%(table)s)))
"""


def prepare_index_build(
    cur: Any, statement: Statement, *, resuming: bool, notify: Callable[[str], None]
) -> bool:
    """Get ready to run ``statement``; True when it must be skipped (already built or dropped)."""
    node = statement.node
    if resuming and type(node).__name__ == "DropStmt" and node.concurrent:
        return _already_dropped(cur, node, notify)
    params = _build_lookup(node)
    if params is None:
        return False
    cur.execute(_LOOKUP, params)
    row = cur.fetchone()
    if row is None:
        return False
    valid, schema, name = row
    if not valid:
        notify(
            f"dropping INVALID index {schema}.{name} left by an interrupted build; rebuilding it"
        )
        cur.execute(
            sql.SQL("DROP INDEX CONCURRENTLY IF EXISTS {}.{}").format(
                sql.Identifier(schema), sql.Identifier(name)
            )
        )
        return False
    if resuming:
        notify(f"index {schema}.{name} was built before the interruption; not building it again")
        return True
    return False


def build_lookup_sql(cur: Any, statement: Statement) -> str | None:
    """For a named ``CREATE INDEX CONCURRENTLY``: the query of its index (valid, schema, name),
    ready to send; None for any other statement. Scripts check with it what
    ``prepare_index_build`` checks."""
    params = _build_lookup(statement.node)
    return None if params is None else cur.mogrify(_LOOKUP, params).decode().strip()


def _build_lookup(node: Any) -> dict[str, str | None] | None:
    if type(node).__name__ != "IndexStmt" or not node.concurrent or not node.idxname:
        return None
    relation = node.relation
    table = _quoted([part for part in (relation.schemaname, relation.relname) if part])
    return {"name": node.idxname, "schema": relation.schemaname, "table": table}


def dropped_sql(cur: Any, statement: Statement) -> str | None:
    """For a ``DROP INDEX CONCURRENTLY`` (without ``IF EXISTS``): an SQL condition true when
    its indexes are gone, ready to send; None for any other statement. Scripts check with it
    what ``prepare_index_build`` checks when resuming."""
    node = statement.node
    if type(node).__name__ != "DropStmt" or not node.concurrent:
        return None
    names = _dropped_names(node)
    if not names:
        return None
    return " AND ".join(cur.mogrify("to_regclass(%s) IS NULL", (_quoted(name),)).decode()
                        for name in names)


def _dropped_names(node: Any) -> list[list[str]]:
    """The names a ``DROP INDEX`` drops (none with ``IF EXISTS``: it cannot fail)."""
    return [] if node.missing_ok else [[part.sval for part in name] for name in node.objects or ()]


def _quoted(parts: list[str]) -> str:
    return ".".join('"' + part.replace('"', '""') + '"' for part in parts)


def _already_dropped(cur: Any, node: Any, notify: Callable[[str], None]) -> bool:
    """A resumed ``DROP INDEX CONCURRENTLY`` whose index is gone ran before the interruption."""
    names = _dropped_names(node)
    if not names:
        return False
    for name in names:
        cur.execute("SELECT to_regclass(%s) IS NOT NULL", (_quoted(name),))
        if cur.fetchone()[0]:
            return False
    shown = ", ".join(".".join(name) for name in names)
    # Gone before the interruption, or never there (when the statement failed for that): the
    # statement's end state holds either way, and the note does not claim which.
    notify(f"index {shown} is not there (dropped before the interruption, or never made); "
           "not dropping it")
    return True
