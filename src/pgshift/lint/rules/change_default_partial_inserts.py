"""change-default-partial-inserts."""

from __future__ import annotations

from collections.abc import Iterator

from pgshift.lint.context import Context
from pgshift.lint.nodes import Node
from pgshift.lint.rule import Rule, Violation, register


@register
class ChangeDefaultPartialInserts(Rule):
    """ALTER COLUMN … SET/DROP DEFAULT on an existing table (advisory).

    ORMs that cache column defaults (Rails with partial inserts off, for one) keep writing the
    old default explicitly until they are restarted, so the new default does not apply.

    Safe way: deploy the app change that relies on the new default after the migration, and
    restart the app processes.
    """

    id = "change-default-partial-inserts"
    nodes = ("AlterTableCmd",)
    severity = "warning"
    tier = "B"

    def check(self, node: Node, ctx: Context) -> Iterator[Violation]:
        if node.get("subtype") != "AT_ColumnDefault" or ctx.is_new(ctx.target):
            return
        column = node.get("name", "")
        if (ctx.target, column) in ctx.created.columns:
            return
        yield ctx.violation(
            self,
            f"changing the default of {ctx.target}.{column}: ORMs that cache defaults keep "
            "writing the old one until restarted",
            "restart the app after the migration before relying on the new default",
        )
