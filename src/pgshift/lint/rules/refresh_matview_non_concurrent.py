"""refresh-matview-non-concurrent."""

from __future__ import annotations

from collections.abc import Iterator

from pgshift.lint.context import Context
from pgshift.lint.nodes import Node, relation_key
from pgshift.lint.rule import Rule, Violation, register


@register
class RefreshMatviewNonConcurrent(Rule):
    """REFRESH MATERIALIZED VIEW without CONCURRENTLY.

    The view is rebuilt while holding ACCESS EXCLUSIVE on it: every read of the materialized
    view is blocked until the refresh finishes.

    Safe way: ``REFRESH MATERIALIZED VIEW CONCURRENTLY`` (needs a unique index on the view; it
    takes EXCLUSIVE, so reads go on).
    """

    id = "refresh-matview-non-concurrent"
    nodes = ("RefreshMatViewStmt",)
    size_matters = True

    def check(self, node: Node, ctx: Context) -> Iterator[Violation]:
        key = relation_key(node.get("relation"))
        if node.get("concurrent") or ctx.is_new(key):
            return
        yield ctx.violation(
            self,
            f"REFRESH MATERIALIZED VIEW {key} holds ACCESS EXCLUSIVE on it: every read of {key} "
            "is blocked until the refresh finishes",
            f"REFRESH MATERIALIZED VIEW CONCURRENTLY {key} (needs a unique index on it)",
            table=key,
        )
