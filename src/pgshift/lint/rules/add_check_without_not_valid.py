"""add-check-without-not-valid."""

from __future__ import annotations

from collections.abc import Iterator

from pgshift.lint.context import Context
from pgshift.lint.nodes import Node, added_column, added_constraint, constraints_of
from pgshift.lint.rule import Rule, Violation, register


@register
class AddCheckWithoutNotValid(Rule):
    """ADD CONSTRAINT … CHECK without NOT VALID on an existing table, or ADD COLUMN with an
    inline CHECK (which cannot be NOT VALID).

    PostgreSQL checks every existing row while holding ACCESS EXCLUSIVE: reads and writes are
    blocked for the whole scan. An inline CHECK on an added column is checked against every
    row too, even when the column has no default (it may test other columns, or ``IS NOT
    NULL``).

    Safe way: ``ADD CONSTRAINT … CHECK (…) NOT VALID`` (instant; new writes are checked), then
    ``VALIDATE CONSTRAINT`` in a later transaction: it takes only SHARE UPDATE EXCLUSIVE, so
    reads and writes go on during the scan. For a new column, add it without the CHECK and
    add the CHECK separately that way.

    ``pgshift create --recipe add-check`` writes it.
    """

    id = "add-check-without-not-valid"
    nodes = ("AlterTableCmd",)
    size_matters = True

    def check(self, node: Node, ctx: Context) -> Iterator[Violation]:
        con = added_constraint(node)
        coldef = added_column(node)
        if coldef is not None:
            con = next((c for c in constraints_of(coldef) if c.get("contype") == "CONSTR_CHECK"),
                       None)
        if con is None or con.get("contype") != "CONSTR_CHECK" or con.get("skip_validation"):
            return
        if not ctx.altering_table() or ctx.is_new(ctx.target):
            return
        name = con.get("conname") or "CHECK"
        if coldef is not None:
            name = f"{name} (inline on ADD COLUMN {coldef.get('colname', '')})"
        yield ctx.violation(
            self,
            f"ADD CONSTRAINT {name} on {ctx.target} checks every row under ACCESS EXCLUSIVE: "
            "reads and writes are blocked for the whole scan",
            "add it NOT VALID, then VALIDATE CONSTRAINT in a later transaction (SHARE UPDATE "
            "EXCLUSIVE: reads and writes go on)",
            table=ctx.target,
            recipe="add-check",
        )
