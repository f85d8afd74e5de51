"""add-column-serial-or-identity."""

from __future__ import annotations

from collections.abc import Iterator

from pgshift.lint.coercion import SERIALS, type_of
from pgshift.lint.context import Context
from pgshift.lint.nodes import Node, constraints_of
from pgshift.lint.rule import Rule, Violation, register


@register
class AddColumnSerialOrIdentity(Rule):
    """ADD COLUMN of type serial/bigserial/smallserial, or ``GENERATED … AS IDENTITY``, on an
    existing table.

    Every existing row gets a ``nextval()``: PostgreSQL rewrites the whole table under ACCESS
    EXCLUSIVE, blocking reads and writes until it finishes.

    Safe way: add a plain nullable ``bigint`` column, give new rows a sequence default
    (``CREATE SEQUENCE`` + ``SET DEFAULT nextval(…)``), backfill existing rows in batches,
    then add the NOT NULL via a validated CHECK.
    """

    id = "add-column-serial-or-identity"
    nodes = ("AlterTableCmd",)
    size_matters = True

    def check(self, node: Node, ctx: Context) -> Iterator[Violation]:
        coldef = ctx.column_added_to_existing_table(node)
        if coldef is None:
            return
        typ = type_of(coldef.get("typeName"))
        if typ is not None and typ.name in SERIALS:
            what = typ.name
        elif any(c.get("contype") == "CONSTR_IDENTITY" for c in constraints_of(coldef)):
            what = "an IDENTITY column"
        else:
            return
        column = coldef.get("colname", "")
        yield ctx.violation(
            self,
            f"ADD COLUMN {column} ({what}) on {ctx.target} fills every existing row from a "
            "sequence: the table is rewritten under ACCESS EXCLUSIVE, blocking reads and writes",
            "add a nullable bigint, SET DEFAULT nextval(a new sequence) for new rows, and "
            "backfill existing rows in batches",
            table=ctx.target,
        )
