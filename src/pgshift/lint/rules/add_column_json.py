"""add-column-json."""

from __future__ import annotations

from collections.abc import Iterator

from pgshift.lint.coercion import type_of
from pgshift.lint.context import Context
from pgshift.lint.nodes import Node
from pgshift.lint.rule import Rule, Violation, register


@register
class AddColumnJson(Rule):
    """A ``json`` column (advisory).

    ``json`` has no equality operator: ``SELECT DISTINCT``, ``UNION`` and GROUP BY on it fail,
    and every access re-parses the text.

    Safe way: use ``jsonb``.
    """

    id = "add-column-json"
    nodes = ("ColumnDef",)
    severity = "warning"
    tier = "B"

    def check(self, node: Node, ctx: Context) -> Iterator[Violation]:
        typ = type_of(node.get("typeName"))
        if typ is None or typ.name != "json":
            return
        yield ctx.violation(
            self,
            f"column {node.get('colname')} is json: DISTINCT, UNION and GROUP BY on it fail "
            "(no equality operator)",
            "use jsonb",
        )
