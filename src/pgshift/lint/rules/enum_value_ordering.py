"""enum-value-ordering."""

from __future__ import annotations

from collections.abc import Iterator

from pgshift.lint.context import Context
from pgshift.lint.nodes import Node
from pgshift.lint.rule import Rule, Violation, register


@register
class EnumValueOrdering(Rule):
    """ALTER TYPE … ADD VALUE without BEFORE or AFTER (advisory).

    The new label goes last, which decides how ``ORDER BY`` and comparisons sort it; say where
    it belongs so the order is intended, not accidental.

    Safe way: ``ALTER TYPE … ADD VALUE IF NOT EXISTS 'x' AFTER 'y'``.
    """

    id = "enum-value-ordering"
    nodes = ("AlterEnumStmt",)
    severity = "warning"
    tier = "B"

    def check(self, node: Node, ctx: Context) -> Iterator[Violation]:
        if node.get("oldVal") or node.get("newValNeighbor"):
            return
        yield ctx.violation(
            self,
            f"ADD VALUE '{node.get('newVal')}' without BEFORE/AFTER sorts it last",
            f"ADD VALUE '{node.get('newVal')}' BEFORE/AFTER the label it belongs next to",
        )
