"""Unqualified names resolved through ``search_path``, as PostgreSQL resolves them.

After ``SET search_path TO billing, public``, ``CREATE TABLE refunds`` creates
``billing.refunds``, and ``ALTER TABLE refunds`` finds the first schema of the path that has a
``refunds``. The linter keys relations and types by schema (``billing.refunds``; ``users`` for
public), so before a statement is checked its unqualified names (``RangeVar``s, and the name
lists of DROP, ALTER TYPE, ALTER DOMAIN, CREATE TYPE/DOMAIN) are qualified in place:

- what a statement creates goes into the first schema of the path;
- any other name takes the first schema of the path where the linter knows it (a temporary
  table first: PostgreSQL searches ``pg_temp`` before the path);
- a name known in no schema of the path is assumed to exist in the first one: it cannot be
  public's when the path does not name public (a table public holds, or that the file created
  there, is not the one PostgreSQL finds). With public in the path it is left as it is.

A qualified ``RangeVar`` is marked ``pgshift_search_path`` (require-table-schema still sees
that the SQL did not name the schema). Nothing is done while the path is public alone (after
``"$user"``, ``pg_catalog``, ``pg_temp``): the default, and the common case.
"""

from __future__ import annotations

from collections.abc import Sequence

from pgshift.lint.nodes import Node, table_key
from pgshift.lint.schema import Schema

SearchPath = tuple[str, ...]
RESOLVED = "pgshift_search_path"
_SKIPPED = ("$user", "pg_catalog", "pg_temp")
# Where each creating statement keeps the RangeVar of the relation it creates.
_CREATED = {
    "CreateStmt": ("relation",),
    "CreateForeignTableStmt": ("base", "relation"),
    "CreateSeqStmt": ("sequence",),
    "ViewStmt": ("view",),
    "CreateTableAsStmt": ("into", "rel"),
    "SelectStmt": ("intoClause", "rel"),
}
# Statements naming a type or domain by a list of String nodes: (field, creates it).
_TYPE_NAMES = {
    "CreateEnumStmt": ("typeName", True),
    "CreateDomainStmt": ("domainname", True),
    "AlterEnumStmt": ("typeName", False),
    "AlterDomainStmt": ("typeName", False),
}
_DROPPED_RELATIONS = ("OBJECT_TABLE", "OBJECT_VIEW", "OBJECT_MATVIEW", "OBJECT_FOREIGN_TABLE",
                      "OBJECT_SEQUENCE", "OBJECT_INDEX")


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
    """The schemas that matter for resolution, or () when the path is public alone."""
    if not path:
        return ()
    useful = tuple(s for s in path if s not in _SKIPPED)
    if not useful or useful == ("public",):
        return ()
    return useful


def qualify(kind: str, node: Node, path: SearchPath, schema: Schema) -> None:
    """Give the unqualified names of one statement (``kind``, its fields) their schema."""
    created = _created_rangevar(kind, node)
    if created is not None and not created.get("schemaname") and \
            created.get("relpersistence") != "t":
        created["schemaname"] = path[0]
        created[RESOLVED] = True
    if kind in _TYPE_NAMES:
        field, creates = _TYPE_NAMES[kind]
        _qualify_names(node.get(field), path, schema, "type", creates=creates)
    elif kind == "DropStmt":
        _qualify_dropped(node, path, schema)
    elif kind == "RenameStmt" and node.get("renameType") in ("OBJECT_TYPE", "OBJECT_DOMAIN"):
        _qualify_names(((node.get("object") or {}).get("List") or {}).get("items"), path,
                       schema, "type")
    stack: list[object] = [node]
    while stack:
        item = stack.pop()
        if isinstance(item, list):
            stack.extend(item)
        elif isinstance(item, dict):
            if "relname" in item and "schemaname" not in item and "relpersistence" in item:
                found = _resolve(item["relname"], path, schema, "relation")
                if found is not None:
                    item["schemaname"] = found
                    item[RESOLVED] = True
            stack.extend(v for v in item.values() if isinstance(v, (dict, list)))


def _qualify_dropped(node: Node, path: SearchPath, schema: Schema) -> None:
    remove = node.get("removeType")
    if remove in _DROPPED_RELATIONS:
        space = "index" if remove == "OBJECT_INDEX" else "relation"
        for obj in node.get("objects") or ():
            _qualify_names((obj.get("List") or {}).get("items"), path, schema, space)
    elif remove in ("OBJECT_TYPE", "OBJECT_DOMAIN"):
        for obj in node.get("objects") or ():
            _qualify_names((obj.get("TypeName") or {}).get("names"), path, schema, "type")


def _qualify_names(items: list[Node] | None, path: SearchPath, schema: Schema, space: str,
                   *, creates: bool = False) -> None:
    """Put the schema in front of a one-part name given as a list of String nodes."""
    if not items or len(items) != 1 or "String" not in items[0]:
        return
    found = path[0] if creates else _resolve(items[0]["String"]["sval"], path, schema, space)
    if found is not None and found != "public":
        items.insert(0, {"String": {"sval": found}})


def _created_rangevar(kind: str, node: Node) -> Node | None:
    fields = _CREATED.get(kind)
    if fields is None:
        return None
    found: Node | None = node
    for name in fields:
        found = (found or {}).get(name)
    return found


def _known(key: str, schema: Schema, space: str) -> bool:
    if space == "relation":
        return key in schema.tables or key in schema.indexes
    if space == "index":
        return key in schema.indexes
    return key in schema.types or key in schema.domains


def _resolve(name: str, path: SearchPath, schema: Schema, space: str) -> str | None:
    """The schema PostgreSQL finds ``name`` in (None: public, or unknown with public in the
    path)."""
    if space == "relation":
        temporary = schema.tables.get(name)
        if temporary is not None and temporary.temporary:
            return None
    for candidate in path:
        if _known(table_key(candidate, name), schema, space):
            return candidate if candidate != "public" else None
    if "public" in path:
        return None
    return path[0]
