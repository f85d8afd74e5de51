"""create-index-in-exclusive-transaction."""

from __future__ import annotations

from collections.abc import Iterator

from pgshift.lint.context import Context
from pgshift.lint.nodes import Node, relation_key
from pgshift.lint.rule import Rule, Violation, register


@register
class CreateIndexInExclusiveTransaction(Rule):
    """A non-concurrent index built in a transaction that already holds ACCESS EXCLUSIVE on the
    table (advisory).

    The earlier statement's ACCESS EXCLUSIVE lock is held until commit, so even reads of the
    table are blocked for the whole index build, not just writes.

    Safe way: build the index CONCURRENTLY in its own migration, or commit the earlier change
    first.
    """

    id = "create-index-in-exclusive-transaction"
    nodes = ("IndexStmt",)
    severity = "warning"
    tier = "B"
    size_matters = True

    def check(self, node: Node, ctx: Context) -> Iterator[Violation]:
        key = relation_key(node.get("relation"))
        if node.get("concurrent") or not ctx.in_transaction or key not in ctx.tx.exclusive:
            return
        yield ctx.violation(
            self,
            f"this transaction already holds ACCESS EXCLUSIVE on {key}, so the index build "
            f"blocks even reads of {key} until commit",
            "build the index CONCURRENTLY in its own migration, or commit the earlier change first",
            table=key,
        )
