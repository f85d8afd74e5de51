"""concurrent-index-pg14-corruption."""

from __future__ import annotations

from collections.abc import Iterator

from pgshift.lint.context import Context
from pgshift.lint.nodes import Node, option_enabled
from pgshift.lint.rule import Rule, Violation, register


@register
class ConcurrentIndexPg14Corruption(Rule):
    """CREATE INDEX CONCURRENTLY or REINDEX CONCURRENTLY on PostgreSQL 14 (advisory).

    PostgreSQL 14.0 to 14.3 can build corrupt indexes concurrently (rows missing from the
    index) when rows are updated during the build.

    Safe way: run 14.4 or later (and amcheck indexes built on earlier 14.x releases).
    """

    id = "concurrent-index-pg14-corruption"
    nodes = ("IndexStmt", "ReindexStmt")
    severity = "warning"
    tier = "B"

    def check(self, node: Node, ctx: Context) -> Iterator[Violation]:
        if ctx.pg_version != 14:
            return
        concurrent = node.get("concurrent") or option_enabled(node.get("params"), "concurrently")
        if not concurrent:
            return
        yield ctx.violation(
            self,
            "on PostgreSQL 14.0–14.3 a concurrent index build can miss rows updated during it",
            "make sure the server runs 14.4 or later",
        )
