"""drop-column."""

from __future__ import annotations

from collections.abc import Iterator

from pgshift.lint.context import Context
from pgshift.lint.nodes import Node
from pgshift.lint.rule import Rule, Violation, register


@register
class DropColumn(Rule):
    """DROP COLUMN on an existing table.

    The lock is brief (the column is only marked dropped), but the running app breaks: any
    query that names the column fails at once, and ORMs that list every column in their
    SELECTs and INSERTs fail on every query of the table until the new code is deployed.

    Safe way: first deploy code that no longer reads or writes the column (e.g. tell the ORM
    to ignore it), then drop it in a later migration.

    ``pgshift create --recipe remove-column`` writes it.
    """

    id = "drop-column"
    nodes = ("AlterTableCmd",)

    def check(self, node: Node, ctx: Context) -> Iterator[Violation]:
        column = ctx.existing_column(node, "AT_DropColumn")
        if column is None:
            return
        yield ctx.violation(
            self,
            f"DROP COLUMN {column} on {ctx.target}: running code that still reads or writes "
            f"{column} (ORMs list every column) fails at once",
            f"deploy code that no longer uses {column} first (ignore it in the ORM), then drop "
            "it in a later migration",
            recipe="remove-column",
        )
