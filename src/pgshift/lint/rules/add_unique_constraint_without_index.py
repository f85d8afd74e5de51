"""add-unique-constraint-without-index."""

from __future__ import annotations

from collections.abc import Iterator

from pgshift.lint.context import Context
from pgshift.lint.nodes import Node, index_building_constraint
from pgshift.lint.rule import Rule, Violation, register


@register
class AddUniqueConstraintWithoutIndex(Rule):
    """ADD CONSTRAINT … UNIQUE without USING INDEX, or ADD COLUMN … UNIQUE, on an existing table.

    PostgreSQL builds the unique index while holding ACCESS EXCLUSIVE: reads and writes are
    blocked for the whole build.

    Safe way: ``CREATE UNIQUE INDEX CONCURRENTLY`` (outside a transaction), then
    ``ALTER TABLE … ADD CONSTRAINT … UNIQUE USING INDEX idx`` (instant).
    """

    id = "add-unique-constraint-without-index"
    nodes = ("AlterTableCmd",)
    size_matters = True

    def check(self, node: Node, ctx: Context) -> Iterator[Violation]:
        if not ctx.altering_table() or ctx.is_new(ctx.target):
            return
        con, coldef = index_building_constraint(node, "CONSTR_UNIQUE")
        if con is not None:
            what = f"ADD CONSTRAINT {con.get('conname') or 'UNIQUE'}"
        elif coldef is not None:
            what = f"ADD COLUMN {coldef.get('colname')} UNIQUE"
        else:
            return
        yield ctx.violation(
            self,
            f"{what} on {ctx.target} builds a unique index under ACCESS EXCLUSIVE: reads and "
            "writes are blocked for the whole build",
            "CREATE UNIQUE INDEX CONCURRENTLY first, then ADD CONSTRAINT … UNIQUE USING INDEX",
            table=ctx.target,
        )
