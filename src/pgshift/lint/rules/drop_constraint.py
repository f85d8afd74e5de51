"""drop-constraint."""

from __future__ import annotations

from collections.abc import Iterator

from pgshift.lint.context import Context
from pgshift.lint.nodes import Node
from pgshift.lint.rule import Rule, Violation, register
from pgshift.lint.rules.drop_foreign_key import is_foreign_key


@register
class DropConstraint(Rule):
    """ALTER TABLE … DROP CONSTRAINT (other than a foreign key, see drop-foreign-key) (advisory).

    The guarantee it gave (CHECK, UNIQUE, PRIMARY KEY) goes away; putting it back later needs a
    validation scan or an index build.

    Safe way: make sure no code or data relies on it before dropping it.
    """

    id = "drop-constraint"
    nodes = ("AlterTableCmd",)
    severity = "warning"
    tier = "B"

    def check(self, node: Node, ctx: Context) -> Iterator[Violation]:
        if node.get("subtype") != "AT_DropConstraint" or ctx.is_new(ctx.target):
            return
        name = node.get("name", "")
        if is_foreign_key(ctx, name):
            return
        yield ctx.violation(
            self,
            f"dropping constraint {name} on {ctx.target} removes its guarantee; restoring it "
            "needs a scan or an index build",
            "make sure no code or data relies on it first",
        )
