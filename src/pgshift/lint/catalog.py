"""Read the existing schema from a live database: tables, column types, constraints, indexes,
partition keys and row estimates (so findings on tiny tables can be downgraded).

Two catalog queries, read-only. Column types come back from ``format_type`` and are parsed by
PostgreSQL's own grammar, so they normalise exactly like the types written in migrations.
"""

from __future__ import annotations

import json
from typing import TYPE_CHECKING, Any

from pgshift.lint.coercion import TypeRef, type_of
from pgshift.lint.nodes import table_key
from pgshift.lint.replay import not_null_columns
from pgshift.lint.schema import Column, Constraint, Schema, Table

if TYPE_CHECKING:
    from psycopg2.extensions import connection as Connection

_RELATIONS = """
SELECT n.nspname, c.relname, c.relkind, c.reltuples::bigint, pg_relation_size(c.oid),
       COALESCE((SELECT array_agg(a.attname ORDER BY k.ord)
                 FROM pg_partitioned_table p
                 CROSS JOIN LATERAL unnest(p.partattrs::int2[]) WITH ORDINALITY k(attnum, ord)
                 JOIN pg_attribute a ON a.attrelid = p.partrelid AND a.attnum = k.attnum
                 WHERE p.partrelid = c.oid), '{}'),
       COALESCE((SELECT json_agg(json_build_array(a.attname, format_type(a.atttypid,
                 a.atttypmod), a.attnotnull, a.atthasdef) ORDER BY a.attnum)
                 FROM pg_attribute a WHERE a.attrelid = c.oid AND a.attnum > 0
                 AND NOT a.attisdropped), '[]'),
       COALESCE((SELECT array_agg(DISTINCT a.attname) FROM pg_index i
                 JOIN pg_attribute a ON a.attrelid = i.indrelid AND a.attnum = ANY(i.indkey)
                 WHERE i.indrelid = c.oid), '{}'),
       COALESCE((SELECT array_agg(ic.relname) FROM pg_index i
                 JOIN pg_class ic ON ic.oid = i.indexrelid WHERE i.indrelid = c.oid), '{}')
FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
WHERE c.relkind IN ('r', 'p', 'v', 'm', 'f')
  AND n.nspname NOT IN ('pg_catalog', 'information_schema') AND n.nspname NOT LIKE 'pg_toast%'
"""
_CONSTRAINTS = """
SELECT n.nspname, c.relname, con.conname, con.contype, con.convalidated,
       CASE WHEN con.contype = 'c' THEN pg_get_expr(con.conbin, con.conrelid) END,
       COALESCE((SELECT array_agg(a.attname) FROM pg_attribute a
                 WHERE a.attrelid = con.conrelid AND a.attnum = ANY(con.conkey)), '{}')
FROM pg_constraint con JOIN pg_class c ON c.oid = con.conrelid
JOIN pg_namespace n ON n.oid = c.relnamespace
WHERE n.nspname NOT IN ('pg_catalog', 'information_schema')
"""
_TYPES = """
SELECT n.nspname, t.typname, t.typtype FROM pg_type t JOIN pg_namespace n ON n.oid = t.typnamespace
WHERE t.typtype IN ('e', 'd') AND n.nspname NOT IN ('pg_catalog', 'information_schema')
"""
_KINDS = {"r": "table", "p": "partitioned", "v": "view", "m": "matview", "f": "foreign"}
_CONTYPES = {"c": "check", "f": "foreign", "u": "unique", "p": "primary", "x": "exclude",
             "n": "notnull"}


def load_schema(conn: Connection) -> Schema:
    """The schema of the database ``conn`` is connected to."""
    schema = Schema()
    with conn.cursor() as cur:
        cur.execute(_RELATIONS)
        relations = cur.fetchall()
        cur.execute(_CONSTRAINTS)
        constraints = cur.fetchall()
        cur.execute(_TYPES)
        types = cur.fetchall()
        cur.execute("SELECT nspname FROM pg_namespace")
        schema.schemas.update(row[0] for row in cur.fetchall())
    formatted = {col[1] for row in relations for col in _json(row[6])}
    parsed = _parse_types(sorted(formatted))
    for nsp, name, kind, tuples, size, partkey, columns, indexed, indexes in relations:
        key = table_key(nsp, name)
        table = Table(kind=_KINDS.get(kind, "table"), partition_key=tuple(partkey),  # type: ignore[arg-type]
                      indexed=set(indexed), known=True)
        if kind in ("r", "m"):  # a partitioned parent or a view holds no rows itself
            # reltuples is an estimate (0 or -1 until the first VACUUM/ANALYZE): trust it only
            # when positive, or when the table has no pages at all.
            table.rows = 0 if size == 0 else (int(tuples) if tuples and tuples > 0 else None)
        for colname, typ, notnull, hasdef in _json(columns):
            table.columns[colname] = Column(parsed.get(typ), bool(notnull), bool(hasdef))
        for index_name in indexes:
            schema.indexes[table_key(nsp, index_name)] = key
        schema.tables[key] = table
    for nsp, name, conname, contype, validated, expr, keys in constraints:
        table = schema.tables.get(table_key(nsp, name))
        if table is None:
            continue
        kind = _CONTYPES.get(contype, "check")
        proves = _proves_not_null(expr) if expr else frozenset()
        if kind == "notnull":
            proves = frozenset(keys)
        table.constraints[conname] = Constraint(kind, bool(validated), frozenset(keys), proves)  # type: ignore[arg-type]
    for nsp, name, typtype in types:
        (schema.types if typtype == "e" else schema.domains).add(table_key(nsp, name))
    return schema


def _json(value: Any) -> list:
    return json.loads(value) if isinstance(value, str) else list(value or [])


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


def _proves_not_null(expr: str) -> frozenset[str]:
    from pglast import parser

    try:
        tree = json.loads(parser.parse_sql_json(f"SELECT 1 WHERE {expr}"))
        where = tree["stmts"][0]["stmt"]["SelectStmt"]["whereClause"]
    except (parser.ParseError, KeyError, IndexError):
        return frozenset()
    return not_null_columns(where)
