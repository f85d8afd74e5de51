"""ban-duplicate-column-assignments."""

from __future__ import annotations

from collections.abc import Iterator

from pgshift.lint.context import Context
from pgshift.lint.nodes import Node
from pgshift.lint.rule import Rule, Violation, register


@register
class BanDuplicateColumnAssignments(Rule):
    """UPDATE … SET a = …, a = … (advisory).

    PostgreSQL rejects it ("multiple assignments to same column"), so the migration fails.

    Safe way: assign each column once.
    """

    id = "ban-duplicate-column-assignments"
    nodes = ("UpdateStmt",)
    severity = "warning"
    tier = "B"

    def check(self, node: Node, ctx: Context) -> Iterator[Violation]:
        seen: set[str] = set()
        for target in node.get("targetList") or ():
            name = (target.get("ResTarget") or {}).get("name")
            if name in seen:
                yield ctx.violation(
                    self,
                    f"column {name} is assigned twice: PostgreSQL rejects the UPDATE",
                    "assign each column once",
                )
                return
            if name:
                seen.add(name)
