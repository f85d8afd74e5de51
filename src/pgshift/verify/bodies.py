"""What the body of a ``DO`` block or of a function runs, found with PostgreSQL's own parsers.

For ``pgshift.verify.server_wide``: a statement on a database, a role or a tablespace is as
server-wide inside a ``DO`` block or a function as outside. A PL/pgSQL body is parsed with
pglast's PL/pgSQL parser: its SQL statements, ``PERFORM``, ``CALL`` and ``EXECUTE 'literal'``
are the statements it runs. An SQL function's body is its statements. ``EXECUTE`` of a string
built at run time (``EXECUTE 'ALTER DATABASE ' || current_database()``, ``EXECUTE format(...)``,
``FOR ... IN EXECUTE``, ``RETURN QUERY EXECUTE``, ``OPEN ... FOR EXECUTE``) cannot be known
before it runs, unless it is built of literals, ``current_database()`` and ``format()`` (see
``fold``); what is known of the rest is the string literals of the body, which
``Body.literals`` gives (its caller judges them). A body in another language (PL/Python,
PL/Perl...) is only text: ``Body.opaque`` is set and its caller judges ``Body.text``.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

# PL/pgSQL statements whose SQL is a string computed at run time, and the field holding it.
_DYNAMIC = {"PLpgSQL_stmt_dynexecute": "query", "PLpgSQL_stmt_dynfors": "query",
            "PLpgSQL_stmt_return_query": "dynquery", "PLpgSQL_stmt_open": "dynquery"}
_STATEMENT_MODE = 0  # PLpgSQL_expr.parseMode of a whole SQL statement (RAW_PARSE_DEFAULT)
_ASSIGN = 3  # parseModes from here on are assignments, ``target := expression``
# What ``fold`` puts for ``current_database()``: the database the statement runs in.
CURRENT_DATABASE = "pgshift_current_database_4b1f"
_LITERAL = re.compile(r"'((?:[^']|'')*)'|\$([A-Za-z_]*)\$(.*?)\$\2\$", re.DOTALL)


@dataclass
class Body:
    """A routine body: who runs it (``a DO block``, ``function f``), its text and where its
    first line is (0-based, in the statement's text)."""

    who: str
    text: str
    line: int
    # (statement node, its SQL, 1-based line in the body): what the body runs as known SQL
    statements: list[tuple[Any, str, int]] = field(default_factory=list)
    dynamic: list[int] = field(default_factory=list)  # lines of SQL built at run time
    literals: list[str] = field(default_factory=list)  # every string literal of the body
    opaque: bool = False  # a language the parsers cannot read: only ``text`` is known


def body_of(node: Any, text: str) -> Body | None:
    """The body of a DoStmt or CreateFunctionStmt parsed from ``text``, with what it runs
    (None for another statement, or a function in C or ``internal``)."""
    kind = type(node).__name__
    if kind == "DoStmt":
        options = node.args or ()
        who = "a DO block"
    elif kind == "CreateFunctionStmt":
        options = node.options or ()
        name = ".".join(str(getattr(n, "sval", n)) for n in node.funcname or ())
        who = f"{'procedure' if node.is_procedure else 'function'} {name}"
    else:
        return None
    language, source, location = _options(options, default="plpgsql" if kind == "DoStmt"
                                          else ("sql" if node.sql_body else ""))
    if kind == "CreateFunctionStmt" and node.sql_body is not None:  # BEGIN ATOMIC ... END
        body = Body(who, "", 0)
        body.statements = [(s, "", 1) for s in _flatten(node.sql_body)]
        return body
    if source is None or language in ("c", "internal"):
        return None
    line = text.count("\n", 0, location) if location >= 0 else 0
    body = Body(who, source, line)
    if language == "plpgsql":
        wrapper = text if kind == "CreateFunctionStmt" else _do_wrapper(source)
        _read_plpgsql(body, wrapper)
    elif language == "sql":
        _read_sql(body)
    else:
        body.opaque = True
    return body


def _options(options: Any, *, default: str) -> tuple[str, str | None, int]:
    language, source, location = default, None, -1
    for item in options:
        if item.defname == "language":
            language = str(getattr(item.arg, "sval", item.arg)).lower()
        elif item.defname == "as":
            values = item.arg if isinstance(item.arg, tuple) else (item.arg,)
            source = str(getattr(values[0], "sval", values[0])) if values else None
            location = getattr(item, "arg_location", -1)
            if location is None:
                location = -1
    return language, source, location


def _flatten(node: Any) -> Iterator[Any]:
    if isinstance(node, (tuple, list)):
        for item in node:
            yield from _flatten(item)
    elif node is not None:
        yield node


def _do_wrapper(source: str) -> str:
    """A function around a DO block's body, for the PL/pgSQL parser; its line 1 is the body's."""
    tag, n = "$pgshift_do$", 0
    while tag in source:
        n += 1
        tag = f"$pgshift_do{n}$"
    return f"CREATE FUNCTION pgshift_do() RETURNS void LANGUAGE plpgsql AS {tag}{source}{tag}"


def _read_sql(body: Body) -> None:
    from pglast import parser

    try:
        parsed = parser.parse_sql(body.text)
    except parser.ParseError:
        body.opaque = True  # PostgreSQL refuses it when the function is created
        return
    for raw in parsed:
        start = raw.stmt_location or 0
        body.statements.append((raw.stmt, body.text[start:start + (raw.stmt_len or len(
            body.text))], body.text.count("\n", 0, start) + 1))
    body.literals = _literals(body.text)


def _read_plpgsql(body: Body, source: str) -> None:
    from pglast import parser

    try:
        tree = json.loads(parser.parse_plpgsql_json(source))
    except Exception:  # pglast raises several error types for bad PL/pgSQL
        body.opaque = True  # PostgreSQL refuses it when it runs or is created: judge its text
        return
    for owner, slot, expr, line in _expressions(tree, "", "", 1):
        query = str(expr.get("query") or "")
        body.literals += _literals(query)
        if _DYNAMIC.get(owner) == slot:
            known = fold(query)
            if known is None:
                body.dynamic.append(line)
            else:
                _add_statements(body, known, line)
        elif expr.get("parseMode", 0) == _STATEMENT_MODE:
            _add_statements(body, query, line)
        else:
            _add_statements(body, _as_select(query, int(expr.get("parseMode") or 0)), line)


def _expressions(node: Any, owner: str, slot: str, line: int
                 ) -> Iterator[tuple[str, str, dict[str, Any], int]]:
    """(PL/pgSQL statement kind, field, PLpgSQL_expr, line) of every expression of the body."""
    if isinstance(node, list):
        for item in node:
            yield from _expressions(item, owner, slot, line)
        return
    if not isinstance(node, dict):
        return
    for key, value in node.items():
        if key == "PLpgSQL_expr" and isinstance(value, dict):
            yield owner, slot, value, line
        elif key.startswith("PLpgSQL_") and isinstance(value, dict):
            yield from _expressions(value, key, "", int(value.get("lineno") or line))
        else:
            yield from _expressions(value, owner, key, line)


def _add_statements(body: Body, text: str, line: int) -> None:
    from pglast import parser

    try:
        parsed = parser.parse_sql(text)
    except parser.ParseError:
        return  # PostgreSQL reports it when it runs
    body.statements += [(raw.stmt, text, line) for raw in parsed]


def _as_select(expression: str, mode: int) -> str:
    """An expression (or, in the assignment modes, ``x := expr``) as a statement that
    evaluates it."""
    target = re.match(r"^\s*[\w.\"\[\]]+\s*(?::=|=)", expression) if mode >= _ASSIGN else None
    return "SELECT " + (expression[target.end():] if target else expression)


def fold(expression: str) -> str | None:
    """The text of a string expression when it can be known before it runs: literals, ``||``,
    ``format()`` (``%s``, ``%I``, ``%L``), ``quote_ident()``, ``quote_literal()``,
    ``concat()``, and ``current_database()`` (``CURRENT_DATABASE`` stands for its name)."""
    from pglast import parser

    try:
        parsed = parser.parse_sql(f"SELECT {expression}")
    except parser.ParseError:
        return None
    if len(parsed) != 1 or len(parsed[0].stmt.targetList or ()) != 1:
        return None
    return _fold(parsed[0].stmt.targetList[0].val)


def _fold(node: Any) -> str | None:
    kind = type(node).__name__
    if kind == "A_Const":
        value = getattr(node.val, "sval", None)
        return None if node.isnull or value is None else str(value)
    if kind == "TypeCast":
        return _fold(node.arg)
    if kind == "SQLValueFunction":
        return CURRENT_DATABASE if node.op.name == "SVFOP_CURRENT_CATALOG" else None
    if kind == "A_Expr" and node.kind.name == "AEXPR_OP" and [
            getattr(n, "sval", "") for n in node.name] == ["||"]:
        left, right = _fold(node.lexpr), _fold(node.rexpr)
        return None if left is None or right is None else left + right
    if kind != "FuncCall" or node.agg_star or node.func_variadic:
        return None
    name = str(getattr(node.funcname[-1], "sval", ""))
    args = [_fold(arg) for arg in node.args or ()]
    if name == "current_database" and not args:
        return CURRENT_DATABASE
    if None in args:
        return None
    known = [str(a) for a in args]
    if name == "quote_ident" and len(known) == 1:
        return _identifier(known[0])
    if name == "quote_literal" and len(known) == 1:
        return _literal(known[0])
    if name == "concat":
        return "".join(known)
    if name == "format" and known:
        return _format(known[0], known[1:])
    return None


def _format(template: str, args: list[str]) -> str | None:
    """PostgreSQL's ``format()`` for ``%s``, ``%I``, ``%L``, ``%n$...`` and ``%%``."""
    pieces, position, at = [], 0, 0
    for match in re.finditer(r"%(%|(?:(\d+)\$)?([sIL]))?", template):
        pieces.append(template[at:match.start()])
        at = match.end()
        if match[1] == "%":
            pieces.append("%")
            continue
        if match[3] is None:
            return None  # a width or a flag, not read here
        if match[2]:
            position = int(match[2]) - 1
        if not 0 <= position < len(args):
            return None  # PostgreSQL refuses it: too few arguments
        value, position = args[position], position + 1
        pieces.append({"s": value, "I": _identifier(value), "L": _literal(value)}[match[3]])
    pieces.append(template[at:])
    return "".join(pieces)


def _identifier(name: str) -> str:
    return name if re.fullmatch(r"[a-z_][a-z0-9_$]*", name) else '"' + name.replace('"', '""') + '"'


def _literal(value: str) -> str:
    return "'" + value.replace("'", "''") + "'"


def _literals(text: str) -> list[str]:
    """The string literals of an SQL text ('...' and $tag$...$tag$), as written."""
    return [m.group(1).replace("''", "'") if m.group(1) is not None else m.group(3)
            for m in _LITERAL.finditer(text)]
