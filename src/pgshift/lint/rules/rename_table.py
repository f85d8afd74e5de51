"""rename-table."""

from __future__ import annotations

from collections.abc import Iterator

from pgshift.lint.context import Context
from pgshift.lint.nodes import Node, relation_key, table_key
from pgshift.lint.rule import Rule, Violation, register


@register
class RenameTable(Rule):
    """ALTER TABLE … RENAME TO on an existing table, unless the same transaction puts a view (or
    another table, as in a table swap) under the old name.

    The ACCESS EXCLUSIVE lock is brief, but every query of the running app that names the old
    table fails as soon as the rename commits.

    Safe way: in one transaction, rename the table and ``CREATE VIEW old_name AS SELECT * FROM
    new_name`` (a simple view is auto-updatable, so old code keeps reading and writing); drop
    the view once no code uses the old name.
    """

    id = "rename-table"
    nodes = ("RenameStmt", "ViewStmt")

    def check(self, node: Node, ctx: Context) -> Iterator[Violation]:
        pending: dict[str, tuple[int, int, str]] = ctx.rule_state(self)
        if ctx.statement is not None and ctx.statement.kind == "ViewStmt":
            key = relation_key(node.get("view"))
            found = pending.get(key)
            if found is not None and found[1] == ctx.tx.serial and ctx.tx.open:
                del pending[key]
            return
        if node.get("renameType") != "OBJECT_TABLE":
            return
        rel = node.get("relation") or {}
        old = relation_key(rel)
        new = table_key(rel.get("schemaname"), node.get("newname", ""))
        swapped = pending.get(new)
        if swapped is not None and swapped[1] == ctx.tx.serial and ctx.tx.open:
            del pending[new]  # another table takes the old name: a swap
        if ctx.is_new(old):
            return
        assert ctx.statement is not None
        pending[old] = (ctx.statement.index, ctx.tx.serial, new)
        return
        yield  # pragma: no cover

    def finish(self, ctx: Context) -> Iterator[Violation]:
        pending: dict[str, tuple[int, int, str]] = ctx.rule_state(self)
        for old, (index, _, new) in pending.items():
            yield ctx.violation(
                self,
                f"RENAME {old} TO {new}: running code that queries {old} fails as soon as this "
                "commits",
                f"in the same transaction, CREATE VIEW {old} AS SELECT * FROM {new}; drop the "
                "view once no code uses the old name",
                statement=index,
            )
