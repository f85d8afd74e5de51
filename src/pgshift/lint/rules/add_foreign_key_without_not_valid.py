"""add-foreign-key-without-not-valid."""

from __future__ import annotations

from collections.abc import Iterator

from pgshift.lint.context import Context
from pgshift.lint.nodes import (
    Node,
    added_column,
    added_constraint,
    constraints_of,
    is_null_const,
    relation_key,
)
from pgshift.lint.rule import Rule, Violation, register


@register
class AddForeignKeyWithoutNotValid(Rule):
    """ADD FOREIGN KEY without NOT VALID on an existing table, or ADD COLUMN … REFERENCES with a
    non-null DEFAULT.

    PostgreSQL checks every existing row against the referenced table while holding SHARE ROW
    EXCLUSIVE on both tables: writes to both are blocked for the whole scan. ADD COLUMN holds
    ACCESS EXCLUSIVE on its table instead, so its reads are blocked too. A new column with no
    default is NULL everywhere, so PostgreSQL skips that scan (only the brief locks remain, see
    missing-lock-timeout).

    Safe way: ``ADD CONSTRAINT … FOREIGN KEY … NOT VALID`` (brief), then
    ``VALIDATE CONSTRAINT`` in another transaction: SHARE UPDATE EXCLUSIVE on the table and ROW
    SHARE on the referenced one, so writes go on.

    ``pgshift create --recipe add-foreign-key`` writes it.
    """

    id = "add-foreign-key-without-not-valid"
    nodes = ("AlterTableCmd",)
    size_matters = True

    def check(self, node: Node, ctx: Context) -> Iterator[Violation]:
        if not ctx.altering_table() or ctx.is_new(ctx.target):
            return
        con = added_constraint(node)
        if con is not None:
            if con.get("contype") != "CONSTR_FOREIGN" or con.get("skip_validation"):
                return
            yield self._found(ctx, relation_key(con.get("pktable")), con.get("conname"), None)
            return
        coldef = added_column(node)
        if coldef is None:
            return
        constraints = constraints_of(coldef)
        default = next((c.get("raw_expr") for c in constraints
                        if c.get("contype") == "CONSTR_DEFAULT"), None)
        if default is None or is_null_const(default):
            return
        for fk in constraints:
            if fk.get("contype") == "CONSTR_FOREIGN":
                yield self._found(ctx, relation_key(fk.get("pktable")), None,
                                  coldef.get("colname"))
                return

    def _found(self, ctx: Context, referenced: str, name: str | None, column: str | None
               ) -> Violation:
        if column is not None:  # ADD COLUMN locks its table ACCESS EXCLUSIVE
            held = (f"ACCESS EXCLUSIVE on {ctx.target} and SHARE ROW EXCLUSIVE on {referenced}: "
                    f"reads and writes of {ctx.target} and writes to {referenced}")
            what = f"column {column} with a foreign key and a DEFAULT"
        else:
            held = (f"SHARE ROW EXCLUSIVE on both: writes to {ctx.target} and {referenced}")
            what = f"foreign key {name}" if name else "a foreign key"
        return ctx.violation(
            self,
            f"adding {what} on {ctx.target} checks every row against {referenced} while holding "
            f"{held} are blocked for the whole scan",
            "add it NOT VALID, then VALIDATE CONSTRAINT in another transaction (writes go on)",
            table=ctx.target,
            recipe="add-foreign-key",
        )
