"""drop-not-null."""

from __future__ import annotations

from collections.abc import Iterator

from pgshift.lint.context import Context
from pgshift.lint.nodes import Node
from pgshift.lint.rule import Rule, Violation, register


@register
class DropNotNull(Rule):
    """ALTER COLUMN … DROP NOT NULL on an existing table.

    The ACCESS EXCLUSIVE lock is brief, but the running code (and readers such as reports and
    replicas' consumers) assumes the column is never NULL; once NULLs are written, that code
    breaks, and putting NOT NULL back needs a full-table scan.

    Safe way: keep the constraint and use a marker value, or add a new nullable column and
    move to it.
    """

    id = "drop-not-null"
    nodes = ("AlterTableCmd",)

    def check(self, node: Node, ctx: Context) -> Iterator[Violation]:
        column = ctx.existing_column(node, "AT_DropNotNull")
        if column is None:
            return
        yield ctx.violation(
            self,
            f"DROP NOT NULL on {ctx.target}.{column}: code that assumes {column} is never NULL "
            "breaks once NULLs are written, and restoring NOT NULL needs a full scan",
            "keep the constraint and use a marker value, or add a new nullable column",
        )
