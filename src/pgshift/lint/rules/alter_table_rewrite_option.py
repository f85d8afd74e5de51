"""alter-table-rewrite-option."""

from __future__ import annotations

from collections.abc import Iterator

from pgshift.lint.context import Context
from pgshift.lint.nodes import Node
from pgshift.lint.rule import Rule, Violation, register

_REWRITES = {
    "AT_SetTableSpace": "SET TABLESPACE",
    "AT_SetLogged": "SET LOGGED",
    "AT_SetUnLogged": "SET UNLOGGED",
    "AT_SetAccessMethod": "SET ACCESS METHOD",
}


@register
class AlterTableRewriteOption(Rule):
    """ALTER TABLE … SET TABLESPACE, SET LOGGED/UNLOGGED or SET ACCESS METHOD on an existing
    table (or ALTER INDEX … SET TABLESPACE).

    Each copies the whole relation while holding ACCESS EXCLUSIVE: reads and writes are blocked
    until the copy finishes.

    Safe way: create a new table with the wanted option and copy the data over (then swap), or
    use pg_repack (which can also move tablespaces online).
    """

    id = "alter-table-rewrite-option"
    nodes = ("AlterTableCmd", "AlterTableMoveAllStmt")
    size_matters = True

    def check(self, node: Node, ctx: Context) -> Iterator[Violation]:
        if ctx.statement is not None and ctx.statement.kind == "AlterTableMoveAllStmt":
            yield ctx.violation(
                self,
                "ALTER … ALL IN TABLESPACE … SET TABLESPACE copies every relation in it under "
                "ACCESS EXCLUSIVE: reads and writes are blocked until each copy finishes",
                "move tables one at a time with pg_repack",
            )
            return
        what = _REWRITES.get(node.get("subtype", ""))
        if what is None or ctx.alter is None:
            return
        objtype = ctx.alter.get("objtype")
        target = ctx.target
        if objtype == "OBJECT_INDEX":
            if target in ctx.created.indexes:
                return
            owner = ctx.index_table(target)
            if owner is not None and ctx.is_new(owner):
                return
        elif not ctx.altering_table() or ctx.is_new(target):
            return
        yield ctx.violation(
            self,
            f"{what} copies all of {target} under ACCESS EXCLUSIVE: reads and writes are "
            "blocked until the copy finishes",
            "create a new table with the option and copy the data (then swap), or use pg_repack",
            table=target,
        )
