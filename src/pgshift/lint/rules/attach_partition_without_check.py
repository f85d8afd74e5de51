"""attach-partition-without-check."""

from __future__ import annotations

from collections.abc import Iterator

from pgshift.lint.context import Context
from pgshift.lint.nodes import Node, relation_key
from pgshift.lint.rule import Rule, Violation, register


@register
class AttachPartitionWithoutCheck(Rule):
    """ATTACH PARTITION of an existing, populated table without a validated CHECK matching the
    partition bounds.

    PostgreSQL scans every row of the table to prove it fits the bounds, holding ACCESS
    EXCLUSIVE on it (and SHARE UPDATE EXCLUSIVE on the parent from PostgreSQL 12, ACCESS
    EXCLUSIVE before): the table is unusable for the whole scan. A DEFAULT partition is
    scanned too.

    Safe way: ``ADD CONSTRAINT … CHECK (<bounds>) NOT VALID`` on the table, ``VALIDATE`` it
    (writes go on), then ATTACH (the scan is skipped), then drop the CHECK.

    ``pgshift create --recipe attach-partition`` writes it.
    """

    id = "attach-partition-without-check"
    nodes = ("AlterTableCmd",)
    size_matters = True

    def check(self, node: Node, ctx: Context) -> Iterator[Violation]:
        if node.get("subtype") != "AT_AttachPartition" or not ctx.altering_table():
            return  # ALTER INDEX … ATTACH PARTITION attaches an index: no scan
        part = (node.get("def") or {}).get("PartitionCmd") or {}
        name = relation_key(part.get("name"))
        if ctx.is_new(name):
            return
        table = ctx.table(name)
        parent = ctx.table(ctx.target)
        key = set(parent.partition_key) if parent is not None else set()
        if table is not None and any(
            c.kind == "check" and c.validated and (not key or key & c.columns)
            for c in table.constraints.values()
        ):
            return
        yield ctx.violation(
            self,
            f"ATTACH PARTITION {name} scans all of {name} to check the bounds while holding "
            f"ACCESS EXCLUSIVE on it: it is unusable for the whole scan",
            "add a CHECK matching the bounds NOT VALID, VALIDATE it, then ATTACH (no scan) and "
            "drop the CHECK",
            table=name,
            recipe="attach-partition",
        )
