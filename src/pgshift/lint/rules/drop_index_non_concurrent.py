"""drop-index-non-concurrent."""

from __future__ import annotations

from collections.abc import Iterator

from pgshift.lint.context import Context
from pgshift.lint.definitions import drop_targets
from pgshift.lint.nodes import Node
from pgshift.lint.rule import Rule, Violation, register


@register
class DropIndexNonConcurrent(Rule):
    """DROP INDEX without CONCURRENTLY.

    It takes ACCESS EXCLUSIVE on the index's table. The drop itself is quick, but the lock
    request waits behind any long-running query on the table, and while it waits every new
    read and write of the table queues behind it.

    Safe way: ``DROP INDEX CONCURRENTLY IF EXISTS name`` (one index per statement, no CASCADE)
    in a migration that runs outside a transaction (``-- pgshift:no-transaction``).
    """

    id = "drop-index-non-concurrent"
    nodes = ("DropStmt",)

    def check(self, node: Node, ctx: Context) -> Iterator[Violation]:
        if node.get("removeType") != "OBJECT_INDEX" or node.get("concurrent"):
            return
        for key in drop_targets(node):
            owner = ctx.index_table(key)
            if key in ctx.created.indexes or (owner is not None and ctx.is_new(owner)):
                continue
            on = f" on {owner}" if owner else ""
            yield ctx.violation(
                self,
                f"DROP INDEX {key} takes ACCESS EXCLUSIVE{on}: while it waits behind running "
                "queries, every read and write of the table queues behind it",
                f"DROP INDEX CONCURRENTLY IF EXISTS {key}, {ctx.no_transaction_way}",
            )
            return
