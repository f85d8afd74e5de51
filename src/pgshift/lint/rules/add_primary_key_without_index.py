"""add-primary-key-without-index."""

from __future__ import annotations

from collections.abc import Iterator

from pgshift.lint.context import Context
from pgshift.lint.nodes import Node, index_building_constraint
from pgshift.lint.rule import Rule, Violation, register


@register
class AddPrimaryKeyWithoutIndex(Rule):
    """ADD PRIMARY KEY (or ADD COLUMN … PRIMARY KEY) without USING INDEX on an existing table.

    PostgreSQL builds the unique index, and scans for NULLs to set NOT NULL on the key
    columns, while holding ACCESS EXCLUSIVE: reads and writes are blocked throughout.

    Safe way: ``CREATE UNIQUE INDEX CONCURRENTLY``; make the columns NOT NULL through a
    validated CHECK; then ``ADD CONSTRAINT … PRIMARY KEY USING INDEX idx`` (instant).
    """

    id = "add-primary-key-without-index"
    nodes = ("AlterTableCmd",)
    size_matters = True

    def check(self, node: Node, ctx: Context) -> Iterator[Violation]:
        if not ctx.altering_table() or ctx.is_new(ctx.target):
            return
        con, coldef = index_building_constraint(node, "CONSTR_PRIMARY")
        if con is not None:
            what = "ADD PRIMARY KEY"
        elif coldef is not None:
            what = f"ADD COLUMN {coldef.get('colname')} PRIMARY KEY"
        else:
            return
        yield ctx.violation(
            self,
            f"{what} on {ctx.target} builds the index and checks NOT NULL under ACCESS "
            "EXCLUSIVE: reads and writes are blocked throughout",
            "CREATE UNIQUE INDEX CONCURRENTLY, NOT NULL via a validated CHECK, then "
            "ADD PRIMARY KEY USING INDEX",
            table=ctx.target,
        )
