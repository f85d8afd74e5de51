"""add-column-not-null-no-default."""

from __future__ import annotations

from collections.abc import Iterator

from pgshift.lint.context import Context
from pgshift.lint.definitions import column_of
from pgshift.lint.nodes import Node
from pgshift.lint.rule import Rule, Violation, register


@register
class AddColumnNotNullNoDefault(Rule):
    """ADD COLUMN … NOT NULL (or PRIMARY KEY) with no DEFAULT on an existing table.

    The new column is NULL in every existing row, so the ALTER fails at once on a table that
    has rows ("column … contains null values"); and once it exists, the running app's INSERTs
    that do not set the column fail with a not-null violation.

    Safe way: add the column nullable, backfill it, then add NOT NULL through a validated
    CHECK; or add it as ``NOT NULL DEFAULT <constant>`` (metadata-only from PostgreSQL 11).
    """

    id = "add-column-not-null-no-default"
    nodes = ("AlterTableCmd",)
    size_matters = True

    def check(self, node: Node, ctx: Context) -> Iterator[Violation]:
        coldef = ctx.column_added_to_existing_table(node)
        if coldef is None:
            return
        column, _ = column_of(coldef)
        if not column.not_null or column.has_default:
            return
        name = coldef.get("colname", "")
        yield ctx.violation(
            self,
            f"ADD COLUMN {name} NOT NULL without a DEFAULT fails on {ctx.target} if it has rows "
            f"(they would hold NULL), and the running app's INSERTs that omit {name} fail",
            f"add {name} nullable, backfill, then SET NOT NULL via a validated CHECK; or use "
            "NOT NULL DEFAULT <constant>",
            table=ctx.target,
        )
