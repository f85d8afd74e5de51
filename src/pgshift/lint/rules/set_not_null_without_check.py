"""set-not-null-without-check."""

from __future__ import annotations

from collections.abc import Iterator

from pgshift.lint.context import Context
from pgshift.lint.nodes import Node, added_constraint, strings, table_key
from pgshift.lint.rule import Rule, Violation, register
from pgshift.lint.schema import Table


@register
class SetNotNullWithoutCheck(Rule):
    """ALTER COLUMN … SET NOT NULL (or PostgreSQL 18's ADD CONSTRAINT … NOT NULL col) with no
    validated ``CHECK (col IS NOT NULL)``; also ADD PRIMARY KEY USING INDEX on an index whose
    columns are known to be nullable, which sets them NOT NULL implicitly.

    PostgreSQL scans the whole table for NULLs while holding ACCESS EXCLUSIVE: reads and writes
    are blocked for the whole scan. From PostgreSQL 12 the scan is skipped when a validated
    CHECK constraint already proves the column is not null (earlier in the file, in an earlier
    migration or in the live schema). On PostgreSQL 18 a validated ``NOT NULL … NOT VALID``
    constraint does the same.

    Safe way: ``ADD CONSTRAINT c CHECK (col IS NOT NULL) NOT VALID``; ``VALIDATE CONSTRAINT c``
    in another transaction; ``SET NOT NULL`` (no scan), or ``ADD PRIMARY KEY USING INDEX``;
    ``DROP CONSTRAINT c``.

    ``pgshift create --recipe set-not-null`` writes it (PostgreSQL 12+).
    """

    id = "set-not-null-without-check"
    nodes = ("AlterTableCmd",)
    size_matters = True

    def check(self, node: Node, ctx: Context) -> Iterator[Violation]:
        con = added_constraint(node)
        if con is not None and con.get("contype") == "CONSTR_NOTNULL" and not con.get(
                "skip_validation"):
            column = next(iter(strings(con.get("keys"))), "")  # PG18: ADD … NOT NULL col
        elif node.get("subtype") == "AT_SetNotNull":
            column = node.get("name", "")
        elif con is not None and con.get("contype") == "CONSTR_PRIMARY" and con.get("indexname"):
            yield from self._primary_key_using_index(con["indexname"], ctx)
            return
        else:
            return
        if not ctx.altering_table() or ctx.is_new(ctx.target):
            return
        table = ctx.table(ctx.target)
        if table is not None and not _may_be_null(table, column, ctx.pg_version):
            return
        yield ctx.violation(
            self,
            f"SET NOT NULL on {ctx.target}.{column} scans the whole table for NULLs under ACCESS "
            "EXCLUSIVE: reads and writes are blocked for the whole scan",
            _hint(column, "SET NOT NULL", ctx.pg_version),
            table=ctx.target,
            recipe="set-not-null" if ctx.pg_version >= 12 else None,
        )

    def _primary_key_using_index(self, index: str, ctx: Context) -> Iterator[Violation]:
        """ADD PRIMARY KEY USING INDEX sets NOT NULL on the index's columns: a scan for each
        column known to be nullable (an index or column the linter has not seen: no finding)."""
        if not ctx.altering_table() or ctx.is_new(ctx.target):
            return
        table = ctx.table(ctx.target)
        schema_name = ((ctx.alter or {}).get("relation") or {}).get("schemaname")
        columns = ctx.schema.index_columns.get(table_key(schema_name, index), ())
        if table is None or not table.known:
            return
        nullable = [c for c in columns if c in table.columns
                    and _may_be_null(table, c, ctx.pg_version)]
        if not nullable:
            return
        names = ", ".join(nullable)
        yield ctx.violation(
            self,
            f"ADD PRIMARY KEY USING INDEX {index} on {ctx.target} sets NOT NULL on {names}: "
            "PostgreSQL scans the whole table for NULLs under ACCESS EXCLUSIVE, blocking reads "
            "and writes for the whole scan",
            _hint(nullable[0], "ADD PRIMARY KEY USING INDEX", ctx.pg_version),
            table=ctx.target,
        )


def _may_be_null(table: Table, column: str, pg_version: int) -> bool:
    """Whether making ``column`` NOT NULL has to scan: it is not NOT NULL already, and (from
    PostgreSQL 12) no validated constraint proves it."""
    known = table.columns.get(column)
    if known is not None and known.not_null:
        return False
    return not (pg_version >= 12 and table.proven_not_null(column))


def _hint(column: str, then: str, pg_version: int) -> str:
    if pg_version >= 12:
        return (f"ADD CONSTRAINT … CHECK ({column} IS NOT NULL) NOT VALID, VALIDATE it in "
                f"another transaction, then {then} (no scan) and drop the CHECK")
    return ("before PostgreSQL 12 SET NOT NULL always scans: keep a validated "
            f"CHECK ({column} IS NOT NULL) instead")
