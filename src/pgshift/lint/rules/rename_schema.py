"""rename-schema."""

from __future__ import annotations

from collections.abc import Iterator

from pgshift.lint.context import Context
from pgshift.lint.nodes import Node
from pgshift.lint.rule import Rule, Violation, register


@register
class RenameSchema(Rule):
    """ALTER SCHEMA … RENAME TO.

    Every query of the running app that names the schema (or relies on it in search_path)
    fails as soon as the rename commits.

    Safe way: create the new schema and move objects, keeping the old names working through
    views or search_path until no code uses them.
    """

    id = "rename-schema"
    nodes = ("RenameStmt",)

    def check(self, node: Node, ctx: Context) -> Iterator[Violation]:
        if node.get("renameType") != "OBJECT_SCHEMA":
            return
        old = node.get("subname", "")
        if old in ctx.created.schemas:
            return
        yield ctx.violation(
            self,
            f"RENAME SCHEMA {old} TO {node.get('newname')}: running code that names {old} fails "
            "as soon as this commits",
            "keep the old name working with views or search_path until no code uses it",
        )
