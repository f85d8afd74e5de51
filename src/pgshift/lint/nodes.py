"""Helpers over PostgreSQL parse trees in libpg_query's JSON form (plain dicts and lists).

The linter parses with ``pglast.parser.parse_sql_json`` and ``json.loads``: about ten times
faster than building ``pglast.ast`` objects. A wrapped node is ``{"IndexStmt": {...}}``; its
*fields* are the inner dict. Absent fields have their default (False, 0, empty).
"""

from __future__ import annotations

import sys
from collections.abc import Iterator
from typing import Any

Node = dict[str, Any]
# libpg_query accepts expressions nested up to about 33,000 JSON levels deep (then it fails
# with "stack depth limit exceeded"); json.loads recurses once per level.
_JSON_DEPTH = 40_000


def load_tree(data: str) -> Any:
    """``json.loads`` of a parse tree, however deeply its expressions nest."""
    import json

    limit = sys.getrecursionlimit()
    if limit < _JSON_DEPTH:
        sys.setrecursionlimit(_JSON_DEPTH)
    try:
        return json.loads(data)
    finally:
        sys.setrecursionlimit(limit)


def kind(node: Node) -> str:
    """The node type of a wrapped node: ``{"IndexStmt": {...}}`` -> ``"IndexStmt"``."""
    return next(iter(node))


def unwrap(node: Node) -> tuple[str, Node]:
    """``(type, fields)`` of a wrapped node."""
    for name, fields in node.items():
        return name, fields
    return "", {}


def fields_of(node: Node | None, expected: str) -> Node | None:
    """The fields of ``node`` if it is a wrapped ``expected`` node, else None."""
    if node is None:
        return None
    return node.get(expected)


def strings(items: list[Node] | None) -> list[str]:
    """The values of a list of ``String`` nodes (qualified names, column lists)."""
    if not items:
        return []
    return [item["String"]["sval"] for item in items if "String" in item]


def table_key(schema: str | None, name: str) -> str:
    """How the linter names a relation: ``users`` for public/unqualified, ``audit.logs`` else."""
    if schema is None or schema == "public":
        return name
    return f"{schema}.{name}"


def name_key(names: list[str]) -> str:
    """The key of a qualified name given as parts (``["public", "users"]`` -> ``users``)."""
    if not names:
        return ""
    if len(names) == 1:
        return names[0]
    return table_key(names[-2], names[-1])


def relation_key(rangevar: Node | None) -> str:
    """The key of a ``RangeVar`` (given as fields, as in ``stmt["relation"]``)."""
    if not rangevar:
        return ""
    return table_key(rangevar.get("schemaname"), rangevar.get("relname", ""))


def relation_schema(rangevar: Node | None) -> str | None:
    if not rangevar:
        return None
    return rangevar.get("schemaname")


def const_value(node: Node | None) -> Any:
    """The Python value of an ``A_Const`` (or a cast of one), else None."""
    if node is None:
        return None
    if "TypeCast" in node:
        return const_value(node["TypeCast"].get("arg"))
    const = node.get("A_Const")
    if const is None:
        return None
    if const.get("isnull"):
        return None
    for key, inner in (("ival", "ival"), ("sval", "sval"), ("fval", "fval"),
                       ("boolval", "boolval"), ("bsval", "bsval")):
        if key in const:
            value = const[key].get(inner)
            if key == "ival":
                return value or 0
            if key == "boolval":
                return bool(value)
            return value if value is not None else ""
    return None


def is_null_const(node: Node | None) -> bool:
    """``NULL`` or ``NULL::type``."""
    if node is None:
        return False
    if "TypeCast" in node:
        return is_null_const(node["TypeCast"].get("arg"))
    const = node.get("A_Const")
    return bool(const is not None and const.get("isnull"))


def walk(node: Any) -> Iterator[tuple[str, Node]]:
    """Every wrapped node under ``node`` (itself included), depth first, in source order."""
    stack = [node]
    while stack:
        item = stack.pop()
        if isinstance(item, dict):
            children = list(item.values())
            if len(item) == 1:
                name, fields = next(iter(item.items()))
                if isinstance(fields, dict) and name[:1].isupper():
                    yield name, fields
            stack.extend(reversed(children))
        elif isinstance(item, list):
            stack.extend(reversed(item))


def column_refs(node: Any) -> set[str]:
    """The column names referenced anywhere in an expression."""
    found = set()
    for name, fields in walk(node):
        if name == "ColumnRef":
            parts = strings(fields.get("fields"))
            if parts:
                found.add(parts[-1])
    return found


def def_elems(items: list[Node] | None) -> dict[str, Node | None]:
    """A ``DefElem`` list as ``{name: argument}``."""
    result: dict[str, Node | None] = {}
    for item in items or ():
        elem = item.get("DefElem")
        if elem is not None:
            result[elem.get("defname", "")] = elem.get("arg")
    return result


def func_name(funccall: Node) -> str:
    """The unqualified, lower-case name of a ``FuncCall``."""
    names = strings(funccall.get("funcname"))
    return names[-1].lower() if names else ""


def added_column(cmd: Node) -> Node | None:
    """The ``ColumnDef`` fields of an ``ADD COLUMN`` command, else None."""
    if cmd.get("subtype") != "AT_AddColumn":
        return None
    return (cmd.get("def") or {}).get("ColumnDef")


def constraints_of(coldef: Node) -> list[Node]:
    """The inline ``Constraint`` fields of a ``ColumnDef``."""
    return [c["Constraint"] for c in coldef.get("constraints") or () if "Constraint" in c]


def added_constraint(cmd: Node) -> Node | None:
    """The ``Constraint`` fields of an ``ADD CONSTRAINT`` command, else None."""
    if cmd.get("subtype") != "AT_AddConstraint":
        return None
    return (cmd.get("def") or {}).get("Constraint")


def option_enabled(items: list[Node] | None, name: str) -> bool:
    """Whether a ``(NAME [value])`` option list turns ``name`` on (``FULL``, ``FULL true``)."""
    options = def_elems(items)
    if name not in options:
        return False
    arg = options[name]
    if arg is None:
        return True
    value = const_value(arg)
    if value is None and "String" in arg:
        value = arg["String"].get("sval")
    if isinstance(value, str):
        return value.lower() not in ("false", "off", "0", "no")
    return bool(value) if value is not None else True


def index_building_constraint(cmd: Node, contype: str) -> tuple[Node | None, Node | None]:
    """An ALTER TABLE command that builds a ``contype`` index (``CONSTR_UNIQUE`` or
    ``CONSTR_PRIMARY``) itself: ``(constraint, None)`` for ADD CONSTRAINT without USING INDEX,
    ``(None, column definition)`` for ADD COLUMN … UNIQUE/PRIMARY KEY, else ``(None, None)``."""
    con = added_constraint(cmd)
    if con is not None:
        return (con, None) if con.get("contype") == contype and not con.get("indexname") else (
            None, None)
    coldef = added_column(cmd)
    if coldef is not None and any(c.get("contype") == contype for c in constraints_of(coldef)):
        return None, coldef
    return None, None
