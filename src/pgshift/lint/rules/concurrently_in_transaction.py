"""concurrently-in-transaction."""

from __future__ import annotations

from collections.abc import Iterator

from pgshift.lint.context import Context
from pgshift.lint.nodes import Node, option_enabled
from pgshift.lint.rule import Rule, Violation, register


@register
class ConcurrentlyInTransaction(Rule):
    """CREATE/DROP INDEX CONCURRENTLY, REINDEX CONCURRENTLY or DETACH PARTITION CONCURRENTLY
    inside a transaction block.

    PostgreSQL refuses them with "cannot run inside a transaction block", so the migration
    fails. With ``--runner pgshift`` every file runs in one transaction unless it says
    ``-- pgshift:no-transaction``; with ``--runner psql`` only an explicit BEGIN makes one. A DO
    block is always a single transaction.

    Safe way: put the statement in a migration of its own marked
    ``-- pgshift:no-transaction`` (or, for other tools, with the tool's transaction turned off
    and no BEGIN around it).
    """

    id = "concurrently-in-transaction"
    nodes = ("IndexStmt", "DropStmt", "ReindexStmt", "AlterTableCmd")

    def check(self, node: Node, ctx: Context) -> Iterator[Violation]:
        what = _concurrent_operation(node, ctx)
        if what is None or not ctx.in_transaction:
            return
        if ctx.statement is not None and ctx.statement.in_do:
            where = "inside a DO block"
        elif ctx.tx.runner_transaction:
            where = f"in the transaction {ctx.tx.wrapper} wraps around this file"
        else:
            where = "inside the transaction opened by BEGIN"
        yield ctx.violation(
            self,
            f"{what} cannot run {where}: PostgreSQL fails with 'cannot run inside a "
            "transaction block'",
            f"run it {ctx.no_transaction_way}" if ctx.tx.wrapper == "pgshift" else
            f"run it in a {ctx.tx.wrapper} migration without a transaction (its no-transaction "
            "marker)",
        )


def _concurrent_operation(node: Node, ctx: Context) -> str | None:
    kind = ctx.statement.kind if ctx.statement is not None else ""
    if kind == "IndexStmt" and node.get("concurrent"):
        return "CREATE INDEX CONCURRENTLY"
    if kind == "DropStmt" and node.get("concurrent"):
        return "DROP INDEX CONCURRENTLY"
    if kind == "ReindexStmt" and option_enabled(node.get("params"), "concurrently"):
        return "REINDEX CONCURRENTLY"
    part = (node.get("def") or {}).get("PartitionCmd") or {}
    if kind == "AlterTableStmt" and node.get("subtype") == "AT_DetachPartition" and part.get(
            "concurrent"):
        return "DETACH PARTITION CONCURRENTLY"
    return None
