"""detach-partition-non-concurrent."""

from __future__ import annotations

from collections.abc import Iterator

from pgshift.lint.context import Context
from pgshift.lint.nodes import Node, relation_key
from pgshift.lint.rule import Rule, Violation, register


@register
class DetachPartitionNonConcurrent(Rule):
    """ALTER TABLE … DETACH PARTITION without CONCURRENTLY.

    It takes ACCESS EXCLUSIVE on the partitioned parent: every read and write of the whole
    partitioned table waits for it (and queues behind it while it waits for running queries).

    Safe way: ``DETACH PARTITION … CONCURRENTLY`` (PostgreSQL 14+; before 14 it is a syntax
    error, also reported), outside a transaction (``-- pgshift:no-transaction``); not possible
    when the table has a DEFAULT partition.
    """

    id = "detach-partition-non-concurrent"
    nodes = ("AlterTableCmd",)

    def check(self, node: Node, ctx: Context) -> Iterator[Violation]:
        if node.get("subtype") != "AT_DetachPartition" or ctx.is_new(ctx.target):
            return
        part = (node.get("def") or {}).get("PartitionCmd") or {}
        if part.get("concurrent"):
            if ctx.pg_version < 14:
                yield ctx.violation(
                    self, "DETACH PARTITION … CONCURRENTLY needs PostgreSQL 14: on "
                    f"{ctx.pg_version} it fails with a syntax error",
                    "DETACH PARTITION without CONCURRENTLY, with a short lock_timeout")
            default = ctx.schema.default_partition(ctx.target)
            if default is not None:  # even when it is the one being detached
                yield ctx.violation(
                    self, f"DETACH PARTITION … CONCURRENTLY fails: {ctx.target} has a DEFAULT "
                    f"partition ({default})",
                    "DETACH PARTITION without CONCURRENTLY, with a short lock_timeout, or "
                    "detach the DEFAULT partition first")
            return
        name = relation_key(part.get("name"))
        if ctx.pg_version >= 14:
            hint = f"DETACH PARTITION {name} CONCURRENTLY, {ctx.no_transaction_way}"
        else:
            hint = "CONCURRENTLY needs PostgreSQL 14; until then keep lock_timeout short"
        yield ctx.violation(
            self,
            f"DETACH PARTITION {name} takes ACCESS EXCLUSIVE on {ctx.target}: every read and "
            f"write of {ctx.target} waits for it",
            hint,
        )
