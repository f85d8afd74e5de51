"""rename-column."""

from __future__ import annotations

from collections.abc import Iterator

from pgshift.lint.context import Context
from pgshift.lint.nodes import Node, relation_key
from pgshift.lint.rule import Rule, Violation, register


@register
class RenameColumn(Rule):
    """RENAME COLUMN on an existing table.

    The ACCESS EXCLUSIVE lock is brief, but the running app breaks: the code deployed now uses
    the old name and fails as soon as the rename commits, and new code using the new name fails
    until it does. The app and the schema cannot both be right during a deploy.

    Safe way: expand and contract: add the new column, write both (trigger), backfill, move
    reads to the new column, stop using the old one, then drop it later. Or keep the old name
    visible through a view.

    ``pgshift create --recipe rename-column`` writes it.
    """

    id = "rename-column"
    nodes = ("RenameStmt",)

    def check(self, node: Node, ctx: Context) -> Iterator[Violation]:
        if node.get("renameType") != "OBJECT_COLUMN":
            return
        if node.get("relationType") not in ("OBJECT_TABLE", "OBJECT_VIEW", "OBJECT_MATVIEW",
                                            "OBJECT_FOREIGN_TABLE"):
            return
        key = relation_key(node.get("relation"))
        old = node.get("subname", "")
        if ctx.is_new(key) or (key, old) in ctx.created.columns:
            return
        yield ctx.violation(
            self,
            f"RENAME COLUMN {old} TO {node.get('newname')} on {key}: running code that uses "
            f"{old} fails as soon as this commits",
            "expand/contract: add the new column, dual-write, backfill, switch reads, drop the "
            "old column later",
            recipe="rename-column",
        )
