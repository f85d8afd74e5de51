"""wide-non-unique-index."""

from __future__ import annotations

from collections.abc import Iterator

from pgshift.lint.context import Context
from pgshift.lint.nodes import Node
from pgshift.lint.rule import Rule, Violation, register


@register
class WideNonUniqueIndex(Rule):
    """A non-unique index on more than 3 columns (advisory).

    Wide indexes are large and slow to write; beyond the first few columns they rarely help
    queries.

    Safe way: index the 1–3 most selective columns (or use INCLUDE for covering columns).
    """

    id = "wide-non-unique-index"
    nodes = ("IndexStmt",)
    severity = "warning"
    tier = "B"

    def check(self, node: Node, ctx: Context) -> Iterator[Violation]:
        count = len(node.get("indexParams") or ())
        if node.get("unique") or count <= 3:
            return
        yield ctx.violation(
            self,
            f"a non-unique index on {count} columns is large and slow to maintain",
            "index the 1–3 most selective columns; use INCLUDE for covering columns",
        )
