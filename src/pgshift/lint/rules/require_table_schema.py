"""require-table-schema."""

from __future__ import annotations

from collections.abc import Iterator

from pgshift.lint.context import Context
from pgshift.lint.nodes import Node
from pgshift.lint.rule import Rule, Violation, register
from pgshift.lint.search_path import RESOLVED


@register
class RequireTableSchema(Rule):
    """A table named without its schema (advisory).

    The table is resolved through ``search_path``, which can differ between the session that
    runs the migration and the one that wrote it.

    Safe way: qualify table names: ``public.users``.
    """

    id = "require-table-schema"
    nodes = ("CreateStmt", "AlterTableStmt", "IndexStmt")
    severity = "warning"
    tier = "B"

    def check(self, node: Node, ctx: Context) -> Iterator[Violation]:
        rel = node.get("relation") or {}
        if not rel or (rel.get("schemaname") and not rel.get(RESOLVED)):
            return
        yield ctx.violation(
            self,
            f"{rel.get('relname')} is resolved through search_path",
            f"qualify it: {rel.get('schemaname') or 'public'}.{rel.get('relname')}",
        )
