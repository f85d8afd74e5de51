"""DDL definitions read as the Schema's models: a column definition, a constraint (with
PostgreSQL's default name when unnamed), the columns a CHECK proves not null, the keys a DROP
names. Shared by the replay, the live catalog's reading and the rules.
"""

from __future__ import annotations

from pgshift.lint.coercion import SERIALS, TypeRef, type_of
from pgshift.lint.nodes import (
    Node,
    column_refs,
    is_null_const,
    name_key,
    relation_key,
    strings,
)
from pgshift.lint.schema import Column, Constraint


def not_null_columns(expr: Node | None) -> frozenset[str]:
    """Columns a CHECK expression proves not null: ``c IS NOT NULL`` (or ``NOT (c IS NULL)``,
    which PostgreSQL simplifies to it) alone or ANDed. Other strict expressions (``c <> ''``)
    do not count: PostgreSQL's SET NOT NULL still scans with those."""
    found: set[str] = set()
    stack = [(expr, False)] if expr else []
    while stack:
        item, negated = stack.pop()
        if "NullTest" in item:
            test = item["NullTest"]
            arg = test.get("arg") or {}
            wanted = "IS_NULL" if negated else "IS_NOT_NULL"
            if test.get("nulltesttype") == wanted and "ColumnRef" in arg:
                found.update(strings(arg["ColumnRef"].get("fields"))[-1:])
        elif "BoolExpr" in item:
            boolop = item["BoolExpr"].get("boolop")
            args = item["BoolExpr"].get("args") or ()
            if boolop == ("OR_EXPR" if negated else "AND_EXPR"):  # NOT (a OR b): NOT a AND NOT b
                stack.extend((arg, negated) for arg in args)
            elif boolop == "NOT_EXPR":
                stack.extend((arg, not negated) for arg in args)
    return frozenset(found)


def constraint_of(con: Node, table: str, column: str | None = None) -> tuple[str, Constraint]:
    """The name (PostgreSQL's default when unnamed) and model of a ``Constraint``'s fields."""
    contype = con.get("contype", "")
    keys = strings(con.get("keys")) or ([column] if column else [])
    validated = not con.get("skip_validation")
    base = table.rsplit(".", 1)[-1]
    if contype == "CONSTR_CHECK":
        expr = con.get("raw_expr")
        cols = column_refs(expr) if expr else set()
        if column:
            cols.add(column)
        default = f"{base}_{sorted(cols)[0]}_check" if len(cols) == 1 else f"{base}_check"
        return con.get("conname") or default, Constraint(
            "check", validated, frozenset(cols), not_null_columns(expr), expr=expr)
    if contype == "CONSTR_NOTNULL":
        default = f"{base}_{keys[0]}_not_null" if keys else f"{base}_not_null"
        return con.get("conname") or default, Constraint(
            "notnull", validated, frozenset(keys), frozenset(keys))
    if contype == "CONSTR_FOREIGN":
        cols = strings(con.get("fk_attrs")) or keys
        return con.get("conname") or f"{base}_{'_'.join(cols)}_fkey", Constraint(
            "foreign", validated, frozenset(cols), references=relation_key(con.get("pktable")))
    kinds = {"CONSTR_PRIMARY": ("primary", "pkey"), "CONSTR_UNIQUE": ("unique", "key"),
             "CONSTR_EXCLUSION": ("exclude", "excl")}
    kind, suffix = kinds.get(contype, ("check", "con"))
    name = f"{base}_pkey" if kind == "primary" else f"{base}_{'_'.join(keys)}_{suffix}"
    model = Constraint(kind, True, frozenset(keys))  # type: ignore[arg-type]
    return con.get("conname") or name, model


def column_of(coldef: Node) -> tuple[Column, list[Node]]:
    """A ``ColumnDef``'s Column and its inline constraints' fields."""
    typ = type_of(coldef.get("typeName"))
    constraints = [c["Constraint"] for c in coldef.get("constraints") or () if "Constraint" in c]
    column = Column(type=typ)
    if typ is not None and typ.name in SERIALS:
        column.type = TypeRef(SERIALS[typ.name])
        column.has_default = True
    for con in constraints:
        contype = con.get("contype")
        if contype in ("CONSTR_NOTNULL", "CONSTR_PRIMARY"):
            column.not_null = True
        elif contype in ("CONSTR_IDENTITY", "CONSTR_GENERATED") or (
                contype == "CONSTR_DEFAULT" and not is_null_const(con.get("raw_expr"))):
            column.has_default = True
        if contype == "CONSTR_GENERATED":
            column.generated = con.get("generated_kind", "s")
    return column, constraints


def drop_targets(stmt: Node) -> list[str]:
    """The keys a ``DropStmt`` names."""
    keys = []
    for obj in stmt.get("objects") or ():
        if "List" in obj:
            keys.append(name_key(strings(obj["List"].get("items"))))
        elif "String" in obj:
            keys.append(obj["String"]["sval"])
        elif "TypeName" in obj:
            keys.append(name_key(strings(obj["TypeName"].get("names"))))
    return keys
