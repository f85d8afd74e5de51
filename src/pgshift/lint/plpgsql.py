"""The SQL a ``DO $$ … $$`` block runs: its body parsed as PL/pgSQL, statements found by line.

A DO block runs when the migration runs, so its DDL is linted like any other statement;
``EXECUTE 'literal'`` is linted too. A function body only runs when called later, and dynamic
SQL built at run time cannot be known: neither is linted.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from pgshift.lint.nodes import Node, const_value, load_tree


def do_body(stmt: Node, data: bytes) -> tuple[str, int] | None:
    """The PL/pgSQL source of a DoStmt and the byte offset in ``data`` where it starts."""
    args = stmt.get("args") or []
    language = "plpgsql"
    body: str | None = None
    location = -1
    for item in args:
        elem = item.get("DefElem") or {}
        if elem.get("defname") == "language":
            language = str(const_value(elem.get("arg")) or (elem.get("arg") or {}).get(
                "String", {}).get("sval", "plpgsql")).lower()
        elif elem.get("defname") == "as":
            body = ((elem.get("arg") or {}).get("String") or {}).get("sval")
            location = elem.get("location", -1)
    if body is None or language != "plpgsql" or location < 0:
        return None
    start = location + 1
    if data[location:location + 1] == b"$":
        end = data.find(b"$", location + 1)
        start = end + 1 if end >= 0 else start
    return body, start


def _tag(body: str) -> str:
    tag, n = "$pgshift_do$", 0
    while tag in body:
        n += 1
        tag = f"$pgshift_do{n}$"
    return tag


def _walk(node: Any) -> Iterator[tuple[str, dict[str, Any]]]:
    """The statements of a PL/pgSQL tree that run SQL, in source order (depth first)."""
    stack = [node]
    while stack:
        item = stack.pop()
        if isinstance(item, dict):
            children = []
            for key, value in item.items():
                if key in _RUNS_SQL and isinstance(value, dict):
                    children.append((key, value))
                else:
                    children.append(value)
            stack.extend(reversed(children))
        elif isinstance(item, list):
            stack.extend(reversed(item))
        elif isinstance(item, tuple):
            yield item


_RUNS_SQL = ("PLpgSQL_stmt_execsql", "PLpgSQL_stmt_dynexecute", "PLpgSQL_stmt_perform")


def embedded_sql(body: str) -> list[tuple[str, int]]:
    """``(sql, line)`` of each statement a PL/pgSQL body runs; ``line`` 1 is the body's first.

    Unparseable bodies give nothing: PostgreSQL reports those when the DO block runs.
    """
    from pglast import parser

    tag = _tag(body)
    source = f"CREATE FUNCTION pgshift_do() RETURNS void LANGUAGE plpgsql AS {tag}{body}{tag}"
    try:
        tree = load_tree(parser.parse_plpgsql_json(source))
    except Exception:  # pglast raises several error types for bad PL/pgSQL
        return []
    found = []
    for key, stmt in _walk(tree):
        line = int(stmt.get("lineno") or 1)
        if key == "PLpgSQL_stmt_execsql":
            query = (((stmt.get("sqlstmt") or {}).get("PLpgSQL_expr")) or {}).get("query")
        elif key == "PLpgSQL_stmt_perform":  # PERFORM f() runs SELECT f(): set_config counts
            query = (((stmt.get("expr") or {}).get("PLpgSQL_expr")) or {}).get("query")
        else:
            query = _literal((((stmt.get("query") or {}).get("PLpgSQL_expr")) or {}).get("query"))
        if query:
            found.append((query, line))
    return found


def _literal(expression: str | None) -> str | None:
    """The string value of an EXECUTE argument when it is a plain literal."""
    if not expression:
        return None
    from pglast import parser

    try:
        tree = load_tree(parser.parse_sql_json(f"SELECT {expression}"))
    except parser.ParseError:
        return None
    stmts = tree.get("stmts") or []
    if len(stmts) != 1:
        return None
    targets = stmts[0]["stmt"].get("SelectStmt", {}).get("targetList") or []
    if len(targets) != 1:
        return None
    value = (targets[0].get("ResTarget") or {}).get("val") or {}
    if "A_Const" not in value:
        return None
    result = const_value(value)
    return result if isinstance(result, str) else None


def do_body_tree(body: str) -> Node | None:
    """The PL/pgSQL parse tree of a DO block's body (None when it does not parse)."""
    from pglast import parser

    tag, n = "$pgshift_enum$", 0
    while tag in body:
        n += 1
        tag = f"$pgshift_enum{n}$"
    source = f"CREATE FUNCTION pgshift_do() RETURNS void LANGUAGE plpgsql AS {tag}{body}{tag}"
    try:
        tree = load_tree(parser.parse_plpgsql_json(source))
    except Exception:  # pglast raises several types; PostgreSQL reports it when the DO runs
        return None
    return (tree[0] if tree else {}).get("PLpgSQL_function")


def expressions(tree: Node) -> Iterator[tuple[str, Node, Node]]:
    """``(statement kind, statement, PLpgSQL_expr)`` of a PL/pgSQL tree, in source order."""
    stack: list[tuple[Any, str, Node]] = [(tree.get("action"), "", {})]
    while stack:
        item, owner, stmt = stack.pop()
        if isinstance(item, list):
            stack.extend((child, owner, stmt) for child in reversed(item))
        elif isinstance(item, dict):
            children = []
            for key, value in item.items():
                if key == "PLpgSQL_expr" and isinstance(value, dict):
                    children.append(((owner, stmt, value), owner, stmt))
                elif key.startswith("PLpgSQL_stmt_") and isinstance(value, dict):
                    children.append((value, key, value))
                else:
                    children.append((value, owner, stmt))
            stack.extend(reversed(children))
        elif isinstance(item, tuple):
            yield item
