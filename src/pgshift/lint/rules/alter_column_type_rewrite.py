"""alter-column-type-rewrite."""

from __future__ import annotations

from collections.abc import Iterator

from pgshift.lint.coercion import TypeRef, rewrites, type_of
from pgshift.lint.context import Context
from pgshift.lint.nodes import Node, strings
from pgshift.lint.rule import Rule, Violation, register

# With the old type unknown, a change to these is most likely a widening, which is free.
_LIKELY_FREE = {"text", "varchar"}


@register
class AlterColumnTypeRewrite(Rule):
    """ALTER COLUMN … TYPE that is not binary-coercible: int → bigint, text → enum, text → inet,
    a narrower varchar, a USING that changes values; or a change to a domain with a CHECK or
    NOT NULL (its own or a base domain's), which PostgreSQL checks on every row even over the
    same base type.

    PostgreSQL rewrites the table and rebuilds its indexes while holding ACCESS EXCLUSIVE:
    reads and writes are blocked until it finishes. No rewrite happens for varchar(n) →
    varchar(m ≥ n) or text, text → varchar, numeric(p,s) → numeric(p' ≥ p, s) or numeric,
    cidr → inet, higher timestamp/time precision, text ↔ citext on an unindexed column, and
    timestamp → timestamptz when the session TimeZone is UTC (PostgreSQL 12+). A COLLATE
    clause that changes an indexed column's collation rebuilds its indexes even then. A
    domain without constraints costs what its base type would (integer → such a domain over
    integer is free, and so is a domain → its base type). The old type comes from the live
    database, the schema file, earlier migrations or earlier statements.

    Safe way: add a new column of the new type, keep it in sync with a trigger (dual write),
    backfill in batches, switch the app over, then drop the old column.

    ``pgshift create --recipe change-column-type`` writes it.
    """

    id = "alter-column-type-rewrite"
    nodes = ("AlterTableCmd",)
    size_matters = True

    def check(self, node: Node, ctx: Context) -> Iterator[Violation]:
        if node.get("subtype") != "AT_AlterColumnType" or not ctx.altering_table():
            return
        if ctx.is_new(ctx.target):
            return
        coldef = (node.get("def") or {}).get("ColumnDef") or {}
        new = type_of(coldef.get("typeName"))
        if new is None:
            return
        column = node.get("name", "")
        table = ctx.table(ctx.target)
        old = table.columns[column].type if table and column in table.columns else None
        changes_values = not _plain_using(coldef.get("raw_default"), column)
        domain = None if new.array else ctx.domain_key(coldef.get("typeName"))
        if domain is not None and ctx.schema.domain_constrained(domain) and old != new:
            why = (f"{domain} is a domain with constraints, which PostgreSQL checks on every "
                   "row, so it")
        elif changes_values:
            why = "its USING expression computes new values, so it"
        elif old is None:
            if _base(new, domain, ctx).name in _LIKELY_FREE:
                return
            why = "the old type is unknown here; unless it is binary-coercible, this"
        else:
            indexed = table.column_indexed(column) if table is not None and table.known else None
            if not rewrites(_base(old, _named(old, ctx), ctx), _base(new, domain, ctx),
                            pg_version=ctx.pg_version, indexed=indexed, utc=ctx.tx.utc):
                if indexed and coldef.get("collClause"):
                    yield self._collation(column, new, ctx)
                return
            why = f"{old} to {new} is not binary-coercible, so it"
        yield ctx.violation(
            self,
            f"ALTER COLUMN {column} TYPE {new} on {ctx.target}: {why} rewrites the table and "
            "rebuilds its indexes under ACCESS EXCLUSIVE, blocking reads and writes until done",
            "add a new column, dual-write with a trigger, backfill in batches, switch the app, "
            "then drop the old column",
            table=ctx.target,
            recipe="change-column-type",
        )

    def _collation(self, column: str, new: TypeRef, ctx: Context) -> Violation:
        """A free type change with a COLLATE clause: the table is kept, but an index on the
        column no longer matches the column's collation and is rebuilt."""
        return ctx.violation(
            self,
            f"ALTER COLUMN {column} TYPE {new} COLLATE … on {ctx.target} changes the column's "
            f"collation: every index on {column} is rebuilt under ACCESS EXCLUSIVE, blocking "
            "reads and writes until done",
            "add a new column with the collation, dual-write with a trigger, backfill in "
            "batches, index it CONCURRENTLY, switch the app, then drop the old column",
            table=ctx.target,
            recipe="change-column-type",
        )


def _named(typ: TypeRef, ctx: Context) -> str | None:
    """The key of the known domain a column's type is (None: an array, or not a domain)."""
    if typ.array:
        return None
    return ctx.domain_key({"names": [{"String": {"sval": typ.name}}]})


def _base(typ: TypeRef, domain: str | None, ctx: Context) -> TypeRef:
    """``typ``, or the base type under it when it is ``domain``: a domain without
    constraints changes no value, so converting to or from it costs what its base would."""
    base = ctx.schema.domain_base(domain) if domain is not None else None
    return base if base is not None else typ


def _plain_using(expr: Node | None, column: str) -> bool:
    """No USING, or a USING that only casts the column itself (``col`` or ``col::type``)."""
    while expr is not None and "TypeCast" in expr:
        expr = expr["TypeCast"].get("arg")
    if expr is None:
        return True
    ref = expr.get("ColumnRef")
    return ref is not None and strings(ref.get("fields"))[-1:] == [column]
