"""Read the existing schema from a live database: tables, column types, constraints, indexes,
partition keys, row estimates (so findings on tiny tables can be downgraded), domains with
their constraints and the volatility of user functions.

Four catalog queries, read-only. Column types come back from ``format_type`` and are parsed by
PostgreSQL's own grammar, so they normalise exactly like the types written in migrations.
"""

from __future__ import annotations

import json
from typing import TYPE_CHECKING, Any

from pgshift.lint.catalog_rows import Catalog, fetch_catalog, rows_estimate
from pgshift.lint.coercion import TypeRef, type_of
from pgshift.lint.definitions import not_null_columns
from pgshift.lint.nodes import load_tree, table_key
from pgshift.lint.schema import Column, Constraint, Domain, Schema, Table

if TYPE_CHECKING:
    from psycopg2.extensions import connection as Connection

_KINDS = {"r": "table", "p": "partitioned", "v": "view", "m": "matview", "f": "foreign"}
_CONTYPES = {"c": "check", "f": "foreign", "u": "unique", "p": "primary", "x": "exclude",
             "n": "notnull"}


def load_schema(conn: Connection) -> Schema:
    """The schema of the database ``conn`` is connected to."""
    return schema_of(fetch_catalog(conn))


def schema_of(catalog: Catalog) -> Schema:
    relations, constraints, types, names = catalog
    schema = Schema()
    schema.schemas.update(names)
    formatted = {col[1] for row in relations for col in _json(row[6])}
    parsed = _parse_types(sorted(formatted))
    for nsp, name, kind, tuples, size, partkey, columns, indexed, indexes, *partition in relations:
        key = table_key(nsp, name)
        table = Table(kind=_KINDS.get(kind, "table"), partition_key=tuple(partkey),  # type: ignore[arg-type]
                      indexed=set(indexed), known=True)
        if partition and partition[0]:
            table.parent = table_key(*partition[0])
            table.bound = _bound(partition[1]) if len(partition) > 1 and partition[1] else None
        if len(partition) > 2 and partition[2]:
            for index_name, keys in _json_object(partition[2]).items():
                schema.index_columns[table_key(nsp, index_name)] = tuple(keys or ())
        if kind in ("r", "m"):  # a partitioned parent or a view holds no rows itself
            table.rows = rows_estimate(tuples, size)
        for colname, typ, notnull, hasdef, *generated in _json(columns):
            table.columns[colname] = Column(parsed.get(typ), bool(notnull), bool(hasdef),
                                            (generated or [""])[0] or "")
        for index_name in indexes:
            schema.indexes[table_key(nsp, index_name)] = key
        schema.tables[key] = table
    # Tenants' schemas repeat the same CHECKs: each text parsed once, its tree shared (read only).
    checks: dict[str | None, tuple[dict | None, frozenset[str]]] = {}
    for nsp, name, conname, contype, validated, expr, keys, *referenced in constraints:
        table = schema.tables.get(table_key(nsp, name))
        if table is None:
            continue
        kind = _CONTYPES.get(contype, "check")
        tree, proves = checks.get(expr) or checks.setdefault(expr, _check(expr))
        if kind == "notnull":
            proves = frozenset(keys)
        target = referenced[0] if referenced else None  # [schema, table] of a foreign key
        table.constraints[conname] = Constraint(kind, bool(validated), frozenset(keys), proves,  # type: ignore[arg-type]
                                                expr=tree, rendered=tree is not None,
                                                references=table_key(*target) if target else "")
    based = _parse_types(sorted({_json(t[3])[0] for t in types if t[2] == "d"}))
    for nsp, name, typtype, *detail in types:
        if typtype.startswith("f"):  # a function: "f" + its volatility (see catalog_rows)
            overloads = schema.functions.setdefault(table_key(nsp, name), {})
            overloads[str(len(overloads))] = typtype[1:]
        elif typtype == "d":
            schema.domains[table_key(nsp, name)] = _domain(_json(detail[0]), based)
        else:
            schema.types.add(table_key(nsp, name))
    return schema


def _check(expr: str | None) -> tuple[dict | None, frozenset[str]]:
    """A CHECK's parse tree and the columns it proves not null."""
    tree = _expression(expr) if expr else None
    return tree, not_null_columns(tree) if tree else frozenset()


def _domain(detail: list, based: dict[str, TypeRef | None]) -> Domain:
    """A domain from its catalog row's detail (see catalog_rows._TYPES)."""
    base, base_nsp, base_name, not_null, has_default, checks, *default = detail
    expr = _default(default[0]) if default and default[0] else None
    return Domain(based.get(base), table_key(base_nsp, base_name) if base_name else "",
                  set(checks), bool(not_null), bool(has_default), expr)


def _json(value: Any) -> list:
    return json.loads(value) if isinstance(value, str) else list(value or [])


def _json_object(value: Any) -> dict:
    return json.loads(value) if isinstance(value, str) else dict(value or {})


def _parse_types(formatted: list[str]) -> dict[str, TypeRef | None]:
    """format_type() strings -> TypeRef, parsed by PostgreSQL's grammar in one statement."""
    from pglast import parser

    result: dict[str, TypeRef | None] = {}
    for text in formatted:
        try:
            tree = json.loads(parser.parse_sql_json(f"SELECT NULL::{text}"))
            target = tree["stmts"][0]["stmt"]["SelectStmt"]["targetList"][0]["ResTarget"]
            result[text] = type_of(target["val"]["TypeCast"]["typeName"])
        except (parser.ParseError, KeyError, IndexError):
            result[text] = None
    return result


def _expression(expr: str) -> dict | None:
    """The parse tree of a CHECK's expression as pg_get_expr prints it."""
    from pglast import parser

    try:
        tree = load_tree(parser.parse_sql_json(f"SELECT 1 WHERE {expr}"))
        return tree["stmts"][0]["stmt"]["SelectStmt"]["whereClause"]
    except (parser.ParseError, KeyError, IndexError):
        return None


def _default(expr: str) -> dict | None:
    """The parse tree of a domain's default as pg_get_expr prints it."""
    from pglast import parser

    try:
        tree = load_tree(parser.parse_sql_json(f"SELECT {expr}"))
        return tree["stmts"][0]["stmt"]["SelectStmt"]["targetList"][0]["ResTarget"]["val"]
    except (parser.ParseError, KeyError, IndexError):
        return None


def _bound(text: str) -> dict | None:
    """A partition's bounds (``FOR VALUES …``, ``DEFAULT``) as a PartitionBoundSpec's fields."""
    from pglast import parser

    try:
        tree = load_tree(parser.parse_sql_json(f"ALTER TABLE p ATTACH PARTITION c {text}"))
        cmd = tree["stmts"][0]["stmt"]["AlterTableStmt"]["cmds"][0]["AlterTableCmd"]
        return cmd["def"]["PartitionCmd"]["bound"]
    except (parser.ParseError, KeyError, IndexError):
        return None
