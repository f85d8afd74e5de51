"""create-partition-of."""

from __future__ import annotations

from collections.abc import Iterator

from pgshift.lint.context import Context
from pgshift.lint.nodes import Node, relation_key
from pgshift.lint.rule import Rule, Violation, register


@register
class CreatePartitionOf(Rule):
    """CREATE TABLE … PARTITION OF a partitioned table that already exists.

    It takes ACCESS EXCLUSIVE on the partitioned table, however brief: it waits for every
    running query on it, and every query on it waits behind it. With pgshift's lock_timeout it
    fails and retries instead of queueing the app, but a long report or a busy table can make
    it fail every try. When the partitioned table has a DEFAULT partition, it is scanned too,
    for rows of the new bounds.

    Safe way: create the partition as a table of its own (``CREATE TABLE … (LIKE … INCLUDING
    ALL)``), then ``ATTACH PARTITION`` it: that takes SHARE UPDATE EXCLUSIVE on the partitioned
    table (PostgreSQL 12+), which readers and writers do not conflict with.

    ``pgshift create --recipe add-partition`` writes it.
    """

    id = "create-partition-of"
    nodes = ("CreateStmt",)
    severity = "warning"

    def check(self, node: Node, ctx: Context) -> Iterator[Violation]:
        if node.get("partbound") is None:
            return
        parents = [relation_key(p.get("RangeVar")) for p in node.get("inhRelations") or ()]
        if not parents or ctx.is_new(parents[0]):
            return
        parent, name = parents[0], relation_key(node.get("relation"))
        if ctx.pg_version < 12:
            hint = ("before PostgreSQL 12 ATTACH PARTITION locks the partitioned table as "
                    "much: keep lock_timeout short")
            yield ctx.violation(self, f"CREATE TABLE {name} PARTITION OF {parent} takes "
                                f"ACCESS EXCLUSIVE on {parent}", hint)
            return
        default = ctx.schema.default_partition(parent)
        scan = (f"; it also scans {parent}'s DEFAULT partition {default} for rows of the new "
                "bounds" if default is not None and not ctx.is_new(default)
                and not node.get("partbound", {}).get("is_default") else "")
        yield ctx.violation(
            self,
            f"CREATE TABLE {name} PARTITION OF {parent} takes ACCESS EXCLUSIVE on {parent}: it "
            f"waits for every running query on {parent}, and they all wait behind it{scan}",
            f"CREATE TABLE {name} (LIKE {parent} INCLUDING ALL), then ALTER TABLE {parent} "
            f"ATTACH PARTITION {name} … (SHARE UPDATE EXCLUSIVE only)",
            recipe="add-partition",
        )
