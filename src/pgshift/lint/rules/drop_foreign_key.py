"""drop-foreign-key."""

from __future__ import annotations

from collections.abc import Iterator

from pgshift.lint.context import Context
from pgshift.lint.nodes import Node
from pgshift.lint.rule import Rule, Violation, register


def is_foreign_key(ctx: Context, name: str) -> bool:
    """Whether constraint ``name`` of the table being altered is (or looks like) a foreign key."""
    table = ctx.table(ctx.target)
    known = table.constraints.get(name) if table is not None else None
    if known is not None:
        return known.kind == "foreign"
    return name.endswith(("_fkey", "_fk")) or name.startswith("fk_")


@register
class DropForeignKey(Rule):
    """ALTER TABLE … DROP CONSTRAINT of a foreign key (advisory).

    The integrity guarantee goes away: rows can start pointing at nothing, and adding the key
    back later needs a full validation scan. It takes ACCESS EXCLUSIVE on the table and on the
    table the key references (its triggers there go).

    Safe way: make sure nothing relies on it (ON DELETE actions, the app's assumptions); keep
    the key unless the relationship itself is gone.
    """

    id = "drop-foreign-key"
    nodes = ("AlterTableCmd",)
    severity = "warning"
    tier = "B"

    def check(self, node: Node, ctx: Context) -> Iterator[Violation]:
        if node.get("subtype") != "AT_DropConstraint" or ctx.is_new(ctx.target):
            return
        name = node.get("name", "")
        if not is_foreign_key(ctx, name):
            return
        table = ctx.table(ctx.target)
        model = table.constraints.get(name) if table is not None else None
        referenced = model.references if model is not None else ""
        locks = (f"; it takes ACCESS EXCLUSIVE on {ctx.target} and on {referenced}, which it "
                 "references") if referenced and referenced != ctx.target else ""
        yield ctx.violation(
            self,
            f"dropping foreign key {name} on {ctx.target} removes the integrity guarantee; "
            f"adding it back needs a full scan{locks}",
            "keep the key unless the relationship itself is gone",
        )
