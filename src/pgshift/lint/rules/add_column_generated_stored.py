"""add-column-generated-stored."""

from __future__ import annotations

from collections.abc import Iterator

from pgshift.lint.context import Context
from pgshift.lint.nodes import Node, constraints_of
from pgshift.lint.rule import Rule, Violation, register


@register
class AddColumnGeneratedStored(Rule):
    """ADD COLUMN … GENERATED ALWAYS AS (…) STORED on an existing table, or ALTER COLUMN …
    SET EXPRESSION (PostgreSQL 17+) on a stored generated column.

    The value is computed and stored for every existing row: PostgreSQL rewrites the table
    under ACCESS EXCLUSIVE, blocking reads and writes until it finishes. PostgreSQL 18's
    VIRTUAL generated columns are computed on read and are metadata-only.

    Safe way: add a nullable plain column, keep it up to date with a trigger for new writes,
    backfill existing rows in batches (or, on PostgreSQL 18+, use a VIRTUAL column).
    """

    id = "add-column-generated-stored"
    nodes = ("AlterTableCmd",)
    size_matters = True

    def check(self, node: Node, ctx: Context) -> Iterator[Violation]:
        column = ctx.existing_column(node, "AT_SetExpression")
        if column is not None:
            known = ctx.schema.column(ctx.target, column)
            if known is None or known.generated != "v":  # unknown: stored is the worst case
                yield ctx.violation(
                    self,
                    f"SET EXPRESSION on {ctx.target}.{column} recomputes and writes the stored "
                    "value of every row: the table is rewritten under ACCESS EXCLUSIVE, "
                    "blocking reads and writes",
                    "add a new nullable column, fill it with a trigger for new writes and "
                    "backfill in batches, then switch to it",
                    table=ctx.target,
                )
            return
        coldef = ctx.column_added_to_existing_table(node)
        if coldef is None:
            return
        for con in constraints_of(coldef):
            if con.get("contype") != "CONSTR_GENERATED":
                continue
            if con.get("generated_kind", "s") == "v":
                return
            column = coldef.get("colname", "")
            yield ctx.violation(
                self,
                f"ADD COLUMN {column} GENERATED … STORED on {ctx.target} computes and writes the "
                "value for every row: the table is rewritten under ACCESS EXCLUSIVE, blocking "
                "reads and writes",
                "add a nullable column, fill it with a trigger for new writes and backfill in "
                "batches" + (" (or make it VIRTUAL)" if ctx.pg_version >= 18 else ""),
                table=ctx.target,
            )
            return
