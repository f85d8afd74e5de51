"""add-exclusion-constraint."""

from __future__ import annotations

from collections.abc import Iterator

from pgshift.lint.context import Context
from pgshift.lint.nodes import Node, added_constraint
from pgshift.lint.rule import Rule, Violation, register


@register
class AddExclusionConstraint(Rule):
    """ADD CONSTRAINT … EXCLUDE on an existing table.

    PostgreSQL builds the exclusion index while holding ACCESS EXCLUSIVE: reads and writes are
    blocked for the whole build, and neither NOT VALID nor USING INDEX exists for EXCLUDE.

    Safe way: create a new table with the constraint and copy the data over (then swap), or
    enforce the rule with a trigger.
    """

    id = "add-exclusion-constraint"
    nodes = ("AlterTableCmd",)
    size_matters = True

    def check(self, node: Node, ctx: Context) -> Iterator[Violation]:
        con = added_constraint(node)
        if con is None or con.get("contype") != "CONSTR_EXCLUSION":
            return
        if not ctx.altering_table() or ctx.is_new(ctx.target):
            return
        yield ctx.violation(
            self,
            f"ADD CONSTRAINT … EXCLUDE on {ctx.target} builds its index under ACCESS EXCLUSIVE: "
            "reads and writes are blocked for the whole build (no NOT VALID is possible)",
            "create a new table with the constraint and copy the data, or enforce it with a "
            "trigger",
            table=ctx.target,
        )
