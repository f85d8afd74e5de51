"""Which string literals of a statement PostgreSQL converts to an enum, and to which type.

PostgreSQL checks an enum label in ``enum_in``, when a string is converted to the enum: by a
cast or by context (an enum column, parameter, comparison). ``statement_literals`` gives each
literal with the type it meets where the linter can see it (None where only the server can).
What each case does was checked on PostgreSQL 15 and 18
(tests/integration/test_enum_value_use_matches_server.py); the rule
``enum-value-used-in-transaction`` decides which of them use a label added too recently.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Any, NamedTuple

from pgshift.lint.context import Context
from pgshift.lint.nodes import (
    Node,
    const_value,
    def_elems,
    func_name,
    load_tree,
    relation_key,
    strings,
)

# Built-in types that are never an enum: a literal cast to one is not converted to the enum.
NOT_ENUM = frozenset({
    "text", "varchar", "bpchar", "char", "name", "citext", "json", "jsonb", "xml", "bytea",
    "int2", "int4", "int8", "integer", "int", "bigint", "smallint", "numeric", "decimal",
    "float4", "float8", "real", "bool", "boolean", "date", "time", "timetz", "timestamp",
    "timestamptz", "interval", "uuid", "oid", "regclass", "regtype", "regproc",
    "regprocedure", "regnamespace", "regrole", "inet", "cidr", "macaddr", "tsvector",
    "tsquery", "unknown", "cstring"})
# Functions whose string arguments stay text (verified on PostgreSQL 15 and 18).
_TEXT_ARGS = frozenset({"format", "concat", "concat_ws", "set_config", "current_setting",
                        "lower", "upper", "length", "quote_ident", "quote_literal",
                        "quote_nullable", "pg_notify", "nextval", "currval", "setval"})
_PATTERNS = frozenset({"AEXPR_LIKE", "AEXPR_ILIKE", "AEXPR_SIMILAR"})
# Parameter types that make PostgreSQL skip analysing a SQL function's body at creation.
_POLYMORPHIC = re.compile(r"^any(element|array|nonarray|enum|range|multirange|compatible\w*)$")
class Target(NamedTuple):
    """The type a literal is converted to: its last name part, whether pg_catalog's, array."""

    name: str
    catalog: bool = False
    array: bool = False


# A literal that may be converted: (value, target type or None when the context decides);
# value None: every label of the target type (``enum_range(NULL::mood)`` reads them all).
Literal = tuple["str | None", "Target | None"]
_WHOLE_TYPE = frozenset({"enum_range", "enum_last"})


def _target(type_name: Node | None) -> Target | None:
    """The Target of a ``TypeName`` (its fields)."""
    names = strings((type_name or {}).get("names"))
    if not names:
        return None
    return Target(names[-1].lower(), names[0] == "pg_catalog" and len(names) > 1,
                   bool((type_name or {}).get("arrayBounds")))


def _string(node: Node | None) -> str | None:
    const = (node or {}).get("A_Const")
    value = const_value(node) if const is not None else None
    return value if isinstance(value, str) else None


def array_items(text: str) -> list[str]:
    """The elements of an array literal ``'{happy,"so so"}'`` (nested braces flattened)."""
    return [quoted.replace('\\"', '"') if quoted or not bare else bare
            for quoted, bare in re.findall(r'"((?:[^"\\]|\\.)*)"|([^,{}\s"]+)', text)]


def _column_target(table: Any, column: str) -> Target | None:
    """The type of a column the linter knows (None: unknown, so the literal stays a use)."""
    col = table.columns.get(column) if table is not None else None
    if col is None or col.type is None:
        return None
    return Target(col.type.name.lower(), False, col.type.array)


def _cast_chain(node: Node) -> tuple[Node, list[Target]]:
    """The innermost argument of nested casts and their target types."""
    targets: list[Target] = []
    while "TypeCast" in node:
        cast = node["TypeCast"]
        target = _target(cast.get("typeName"))
        if target is not None:
            targets.append(target)
        node = cast.get("arg") or {}
    return node, targets


def _literals(root: Any, table: Any = None) -> Iterator[Literal]:
    """The string literals under ``root`` that PostgreSQL may convert to an enum.

    ``table``: the statement's own relation, for comparisons with its columns (subqueries
    see other relations, so they are walked without it).
    """
    stack: list[tuple[Any, Any]] = [(root, table)]
    while stack:
        item, rel = stack.pop()
        if isinstance(item, list):
            stack.extend((child, rel) for child in reversed(item))
            continue
        if not isinstance(item, dict):
            continue
        if len(item) != 1 or not next(iter(item))[:1].isupper():
            stack.extend((child, rel) for child in reversed(list(item.values())))
            continue
        kind, fields = next(iter(item.items()))
        if kind == "A_Const":
            value = _string(item)
            if value is not None:
                yield value, None
        elif kind == "TypeCast":
            stack.extend(_cast(item))
            yield from _cast_literals(item)
        elif kind == "A_Expr":
            stack.extend(_expression(fields, rel))
            yield from _typed_operands(fields, rel)
        elif kind == "FuncCall" and func_name(fields) in _TEXT_ARGS:
            stack.extend((arg, rel) for arg in reversed(fields.get("args") or [])
                         if _string(arg) is None)
        elif kind == "NullTest" and _string(fields.get("arg")) is not None:
            continue  # 'x' IS NULL: the literal stays text
        elif kind == "FuncCall" and func_name(fields) in _WHOLE_TYPE:
            yield from _whole_type(fields)
            stack.append((fields.get("args"), rel))
        elif kind in ("SubLink", "RangeSubselect", "CommonTableExpr"):
            stack.append((list(fields.values()), None))
        else:
            stack.append((list(fields.values()), rel))


def _whole_type(call: Node) -> Iterator[Literal]:
    """``enum_range(NULL::mood)``, ``enum_last(…)``: they read every label of the type (the
    two-argument ``enum_range`` only those between its bounds: not known here)."""
    args = call.get("args") or []
    if len(args) == 1:
        _, targets = _cast_chain(args[0])
        if targets:
            yield None, targets[-1]


def _cast(node: Node) -> list[tuple[Any, Any]]:
    """What to walk further under a cast: its argument unless it is a literal (or an ARRAY of
    them), which ``_cast_literals`` reports with the cast's type."""
    inner, _ = _cast_chain(node)
    if _string(inner) is not None:
        return []
    if "A_ArrayExpr" in inner:
        return [(e, None) for e in inner["A_ArrayExpr"].get("elements") or []
                if _string(e) is None]
    return [(inner, None)]


def _cast_literals(node: Node) -> Iterator[Literal]:
    inner, targets = _cast_chain(node)
    elements = (inner["A_ArrayExpr"].get("elements") or []) if "A_ArrayExpr" in inner \
        else [inner]
    for element in elements:
        value = _string(element)
        if value is None:
            continue
        for target in targets:  # 'x'::text::mood converts to mood; 'x'::text alone does not
            if target.array and "A_ArrayExpr" not in inner:
                yield from ((item, target) for item in array_items(value))
            else:
                yield value, target


def _expression(fields: Node, rel: Any) -> list[tuple[Any, Any]]:
    """The operands of an A_Expr to walk further (a literal compared with a known column, or a
    LIKE pattern, is decided here instead)."""
    operands = [fields.get("lexpr"), fields.get("rexpr")]
    if fields.get("kind") in _PATTERNS:
        return [(o, rel) for o in operands if _string(o) is None]
    if _known_column(fields.get("lexpr"), rel) is not None:
        right = fields.get("rexpr")
        items = right if isinstance(right, list) else [right]  # x IN ('a', 'b')
        return [(operands[0], rel)] + [(o, rel) for o in items if _string(o) is None]
    if _known_column(fields.get("rexpr"), rel) is not None:
        return [(operands[1], rel), (operands[0], rel)] if _string(operands[0]) is None \
            else [(operands[1], rel)]
    return [(o, rel) for o in operands if o is not None]


def _typed_operands(fields: Node, rel: Any) -> Iterator[Literal]:
    for column, other in ((fields.get("lexpr"), fields.get("rexpr")),
                          (fields.get("rexpr"), fields.get("lexpr"))):
        target = _known_column(column, rel)
        if target is None or fields.get("kind") in _PATTERNS:
            continue
        for item in other if isinstance(other, list) else [other]:
            value = _string(item)
            if value is not None:
                yield value, target
        return


def _known_column(node: Node | None, rel: Any) -> Target | None:
    """The type of an unqualified column of the statement's only relation."""
    ref = (node or {}).get("ColumnRef") if isinstance(node, dict) else None
    if ref is None or rel is None:
        return None
    parts = strings(ref.get("fields"))
    return _column_target(rel, parts[0]) if len(parts) == 1 else None


def statement_literals(kind: str, node: Node, ctx: Context, bodies: bool) -> Iterator[Literal]:
    """The literals a statement converts, with what its columns and parameters tell."""
    table = ctx.table(relation_key(node.get("relation"))) if node.get("relation") else None
    if kind == "MergeStmt" or node.get("fromClause") or node.get("usingClause"):
        table = None  # MERGE, UPDATE … FROM, DELETE … USING: a column may be another table's
    if kind == "InsertStmt":
        yield from _insert(node, table)
    elif kind == "UpdateStmt":
        for target in node.get("targetList") or ():
            res = target.get("ResTarget") or {}
            value = _string(res.get("val"))
            if value is not None:
                yield value, _column_target(table, res.get("name", ""))
            else:
                yield from _literals(res.get("val"), table)
        yield from _literals([node.get(k) for k in ("whereClause", "fromClause",
                                                     "returningList", "withClause")], table)
    elif kind == "AlterTableStmt":
        yield from _alter(node, table)
    elif kind == "CreateFunctionStmt":
        yield from _function(node, ctx, bodies)
    elif kind == "SelectStmt":
        yield from _literals(node, _single_table(node, ctx))
    elif kind == "CreateStmt":
        yield from _column_defs(node, table)
    else:
        yield from _literals(node, table)


def _single_table(node: Node, ctx: Context) -> Any:
    sources = node.get("fromClause") or []
    if len(sources) == 1 and "RangeVar" in sources[0]:
        return ctx.table(relation_key(sources[0]["RangeVar"]))
    return None


def _insert(node: Node, table: Any) -> Iterator[Literal]:
    columns = [(c.get("ResTarget") or {}).get("name", "") for c in node.get("cols") or ()]
    if not columns and table is not None and table.known:
        columns = list(table.columns)
    select = (node.get("selectStmt") or {}).get("SelectStmt") or {}
    for row in select.get("valuesLists") or ():
        for position, item in enumerate((row.get("List") or {}).get("items") or ()):
            value = _string(item)
            if value is None:
                yield from _literals(item, table)
            elif position < len(columns):
                yield value, _column_target(table, columns[position])
            else:
                yield value, None
    if not select.get("valuesLists"):  # INSERT … SELECT: its columns are another table's
        yield from _literals(node.get("selectStmt"))
    yield from _literals({k: v for k, v in node.items() if k not in ("selectStmt", "cols")},
                         table)


def _alter(node: Node, table: Any) -> Iterator[Literal]:
    for item in node.get("cmds") or ():
        cmd = item.get("AlterTableCmd") or {}
        value = _string(cmd.get("def"))
        if cmd.get("subtype") == "AT_ColumnDefault" and value is not None:
            yield value, _column_target(table, cmd.get("name", ""))
        elif cmd.get("subtype") == "AT_AlterColumnType":
            yield from _literals((cmd.get("def") or {}).get("ColumnDef", {}).get("raw_default"))
        else:
            yield from _column_defs(cmd, table)


def _column_defs(root: Any, table: Any) -> Iterator[Literal]:
    """Literals under ``root``; a ``DEFAULT 'x'`` converts to its own column's type."""
    for kind, fields in _shallow(root):
        if kind != "ColumnDef":
            yield from _literals({kind: fields}, table)
            continue
        target = _target(fields.get("typeName"))
        for item in fields.get("constraints") or ():
            con = item.get("Constraint") or {}
            value = _string(con.get("raw_expr"))
            if con.get("contype") == "CONSTR_DEFAULT" and value is not None:
                yield value, target
            else:
                yield from _literals(item, table)


def _shallow(root: Any) -> Iterator[tuple[str, Node]]:
    """The wrapped nodes directly in ``root`` (a node, its fields, or lists of them)."""
    if isinstance(root, list):
        for item in root:
            yield from _shallow(item)
    elif isinstance(root, dict):
        if len(root) == 1 and next(iter(root))[:1].isupper():
            yield next(iter(root.items()))
        else:
            for value in root.values():
                yield from _shallow(value)


def _function(node: Node, ctx: Context, bodies: bool) -> Iterator[Literal]:
    """CREATE FUNCTION: parameter defaults, a SQL-standard body, and a LANGUAGE sql body when
    check_function_bodies is on (PostgreSQL analyses those at creation; PL/pgSQL bodies only
    run when called)."""
    polymorphic = False
    for item in node.get("parameters") or ():
        param = item.get("FunctionParameter") or {}
        target = _target(param.get("argType"))
        polymorphic |= bool(target and _POLYMORPHIC.match(target.name))
        value = _string(param.get("defexpr"))
        if value is not None:
            yield value, target
        else:
            yield from _literals(param.get("defexpr"))
    yield from _literals(node.get("sql_body"))
    options = def_elems(node.get("options"))
    language = ((options.get("language") or {}).get("String") or {}).get("sval", "")
    body = options.get("as") or {}
    items = (body.get("List") or {}).get("items") or [body]
    source = ((items[0] if items else {}).get("String") or {}).get("sval")
    if language.lower() != "sql" or not source or polymorphic or not bodies:
        return
    for kind, fields in parsed_statements(source):
        yield from statement_literals(kind, fields, ctx, bodies)


def parsed_statements(text: str) -> list[tuple[str, Node]]:
    from pglast import parser

    try:
        statements = load_tree(parser.parse_sql_json(text)).get("stmts") or []
    except Exception:  # not SQL the linter can read: nothing known
        return []
    return [next(iter(item["stmt"].items())) for item in statements]


def _variable_target(datum: Node) -> Target | None:
    """The declared type of a PL/pgSQL variable (a type the parser did not know is a record:
    None, so the literal stays a use)."""
    typname = (((datum.get("PLpgSQL_var") or {}).get("datatype") or {}).get(
        "PLpgSQL_type") or {}).get("typname")
    if not typname:
        return None
    name = typname.split("(")[0].strip().lower()
    return Target(name.rsplit(".", 1)[-1].strip('"'), name.startswith("pg_catalog."),
                   name.endswith("]"))


def expression_literals(stmt: Node, expr: Node, datums: list[Node], ctx: Context,
                        bodies: bool) -> Iterator[Literal]:
    """The literals a PL/pgSQL expression converts: a statement (FOR … IN SELECT), an
    assignment (to the variable's type), or a value (a bare literal stays text)."""
    query, mode = str(expr.get("query") or ""), int(expr.get("parseMode") or 0)
    if mode == 0:
        for kind, fields in parsed_statements(query):
            yield from statement_literals(kind, fields, ctx, bodies)
        return
    target: Target | None = None
    if mode >= 3:  # "v := expr"
        query = query.split(":=", 1)[1] if ":=" in query else query.split("=", 1)[-1]
        varno = int(stmt.get("varno") or 0)
        target = _variable_target(datums[varno]) if 0 <= varno < len(datums) else None
    for _, fields in parsed_statements(f"SELECT {query}"):
        targets = fields.get("targetList") or []
        value = (targets[0].get("ResTarget") or {}).get("val") if len(targets) == 1 else None
        if _string(value) is not None:
            if mode >= 3:
                yield _string(value), target
        else:
            yield from _literals(value)
