"""Unqualified relation names resolved through ``search_path``, as PostgreSQL resolves them.

After ``SET search_path TO billing, public``, ``CREATE TABLE refunds`` creates
``billing.refunds``, and ``ALTER TABLE refunds`` finds the first schema of the path that has a
``refunds``. The linter keys relations by schema (``billing.refunds``; ``users`` for public),
so before a statement is checked its unqualified ``RangeVar``s are qualified in place:

- the relation a statement creates goes into the first schema of the path;
- any other name takes the first schema of the path where the linter knows that relation;
  a name known nowhere is left as it is (an unknown table is assumed to exist anyway).

Nothing is done while the path starts with ``public`` (or ``"$user"``, then ``public``): the
default, and the common case.
"""

from __future__ import annotations

from collections.abc import Sequence

from pgshift.lint.nodes import Node, table_key
from pgshift.lint.schema import Schema

SearchPath = tuple[str, ...]
_SKIPPED = ("$user", "pg_catalog", "pg_temp")
# Where each creating statement keeps the RangeVar of the relation it creates.
_CREATED = {
    "CreateStmt": ("relation",),
    "CreateSeqStmt": ("sequence",),
    "ViewStmt": ("view",),
    "CreateTableAsStmt": ("into", "rel"),
    "SelectStmt": ("intoClause", "rel"),
}


def parse_path(values: Sequence[object]) -> SearchPath:
    """The schemas of a ``SET search_path`` value list, or of ``set_config``'s one string."""
    names: list[str] = []
    for value in values:
        for part in str(value).split(","):
            name = part.strip()
            if name.startswith('"') and name.endswith('"') and len(name) > 1:
                name = name[1:-1]
            elif name:
                name = name.lower()
            if name:
                names.append(name)
    return tuple(names)


def schemas(path: SearchPath | None) -> SearchPath:
    """The schemas that matter for resolution, or () when the path leads with public."""
    if not path:
        return ()
    useful = tuple(s for s in path if s not in _SKIPPED)
    if not useful or useful[0] == "public":
        return ()
    return useful


def qualify(kind: str, node: Node, path: SearchPath, schema: Schema) -> None:
    """Give the unqualified RangeVars of one statement (``kind``, its fields) their schema."""
    created = _created_rangevar(kind, node)
    if created is not None and not created.get("schemaname") and \
            created.get("relpersistence") != "t":
        created["schemaname"] = path[0]
    stack: list[object] = [node]
    while stack:
        item = stack.pop()
        if isinstance(item, list):
            stack.extend(item)
        elif isinstance(item, dict):
            if "relname" in item and "schemaname" not in item and "relpersistence" in item:
                found = _resolve(item["relname"], path, schema)
                if found is not None:
                    item["schemaname"] = found
            stack.extend(v for v in item.values() if isinstance(v, (dict, list)))


def _created_rangevar(kind: str, node: Node) -> Node | None:
    fields = _CREATED.get(kind)
    if fields is None:
        return None
    found: Node | None = node
    for name in fields:
        found = (found or {}).get(name)
    return found


def _resolve(name: str, path: SearchPath, schema: Schema) -> str | None:
    for candidate in path:
        if table_key(candidate, name) in schema.tables:
            return candidate if candidate != "public" else None
    return None
