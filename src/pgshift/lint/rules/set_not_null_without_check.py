"""set-not-null-without-check."""

from __future__ import annotations

from collections.abc import Iterator

from pgshift.lint.context import Context
from pgshift.lint.nodes import Node, added_constraint, strings
from pgshift.lint.rule import Rule, Violation, register


@register
class SetNotNullWithoutCheck(Rule):
    """ALTER COLUMN … SET NOT NULL (or PostgreSQL 18's ADD CONSTRAINT … NOT NULL col) with no
    validated ``CHECK (col IS NOT NULL)``.

    PostgreSQL scans the whole table for NULLs while holding ACCESS EXCLUSIVE: reads and writes
    are blocked for the whole scan. From PostgreSQL 12 the scan is skipped when a validated
    CHECK constraint already proves the column is not null (earlier in the file, in an earlier
    migration or in the live schema). On PostgreSQL 18 a validated ``NOT NULL … NOT VALID``
    constraint does the same.

    Safe way: ``ADD CONSTRAINT c CHECK (col IS NOT NULL) NOT VALID``; ``VALIDATE CONSTRAINT c``
    in another transaction; ``SET NOT NULL`` (no scan); ``DROP CONSTRAINT c``.

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
        else:
            return
        if not ctx.altering_table() or ctx.is_new(ctx.target):
            return
        table = ctx.table(ctx.target)
        if table is not None:
            known = table.columns.get(column)
            if known is not None and known.not_null:
                return  # already NOT NULL: nothing to check
            if ctx.pg_version >= 12 and table.proven_not_null(column):
                return
        if ctx.pg_version >= 12:
            hint = (f"ADD CONSTRAINT … CHECK ({column} IS NOT NULL) NOT VALID, VALIDATE it in "
                    "another transaction, then SET NOT NULL (no scan) and drop the CHECK")
        else:
            hint = ("before PostgreSQL 12 SET NOT NULL always scans: keep a validated "
                    f"CHECK ({column} IS NOT NULL) instead")
        yield ctx.violation(
            self,
            f"SET NOT NULL on {ctx.target}.{column} scans the whole table for NULLs under ACCESS "
            "EXCLUSIVE: reads and writes are blocked for the whole scan",
            hint,
            table=ctx.target,
            recipe="set-not-null" if ctx.pg_version >= 12 else None,
        )
