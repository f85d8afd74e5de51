"""attach-partition-without-check."""

from __future__ import annotations

from collections.abc import Iterator

from pgshift.lint.bounds import describe, implied, proof_of
from pgshift.lint.context import Context
from pgshift.lint.nodes import Node, relation_key
from pgshift.lint.rule import Rule, Violation, register


@register
class AttachPartitionWithoutCheck(Rule):
    """ATTACH PARTITION of an existing, populated table without a validated CHECK that implies
    the partition bounds.

    PostgreSQL scans every row of the table to prove it fits the bounds, holding ACCESS
    EXCLUSIVE on it (and SHARE UPDATE EXCLUSIVE on the parent from PostgreSQL 12, ACCESS
    EXCLUSIVE before): the table is unusable for the whole scan. It skips the scan only when
    the table's validated CHECK constraints and NOT NULL columns imply the partition
    constraint: for ``FROM (lo) TO (hi)``, ``key IS NOT NULL AND key >= lo AND key < hi``; for
    ``IN (…)``, ``key IS NOT NULL AND key IN (…)``. A CHECK passes on NULL, so without
    ``key IS NOT NULL`` (or a NOT NULL key column) it proves nothing. The CHECK is compared
    with the bounds of the ATTACH statement itself; a DEFAULT partition, a hash partition or a
    key of several columns or of an expression are always reported. When the partitioned table
    has a DEFAULT partition, ATTACH scans it too (under ACCESS EXCLUSIVE), for rows that belong
    in the new partition.

    Safe way: ``ADD CONSTRAINT … CHECK (key IS NOT NULL AND key >= lo AND key < hi) NOT
    VALID`` on the table, ``VALIDATE`` it (writes go on), then ATTACH (the scan is skipped),
    then drop the CHECK.

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
        bound = part.get("bound") or {}
        default = _default_partition(ctx) if not bound.get("is_default") else None
        if default is not None:
            yield ctx.violation(
                self,
                f"ATTACH PARTITION {name} also scans {ctx.target}'s DEFAULT partition {default} "
                f"for rows of the new bounds, holding ACCESS EXCLUSIVE on {default}",
                f"give {default} a validated CHECK that excludes the new bounds first (NOT "
                "VALID, then VALIDATE), or keep the DEFAULT partition empty",
                table=default)
        if ctx.is_new(name):
            return
        table = ctx.table(name)
        if table is not None and table.kind == "foreign":
            return  # PostgreSQL does not scan a foreign table
        if implied(bound, ctx.target, ctx.schema, proof_of(table)):
            return
        yield ctx.violation(self, _message(name, ctx, bound), _hint(name, ctx, bound),
                            table=name, recipe=None if bound.get("is_default") else
                            "attach-partition")


def _default_partition(ctx: Context) -> str | None:
    """The DEFAULT partition of the table being altered, when one is known that this file did
    not create (a new one is empty)."""
    key = ctx.schema.default_partition(ctx.target)
    table = ctx.table(key) if key is not None else None
    if key is None or ctx.is_new(key) or (table is not None and table.kind == "foreign"):
        return None
    return key


def _message(name: str, ctx: Context, bound: Node) -> str:
    scan = (f"ATTACH PARTITION {name} scans all of {name} to check the bounds while holding "
            f"ACCESS EXCLUSIVE on it: it is unusable for the whole scan")
    if bound.get("is_default"):
        return (f"{scan} (a DEFAULT partition holds whatever the other partitions do not: no "
                "CHECK lets PostgreSQL skip that scan)")
    table = ctx.table(name)
    if table is not None and any(c.kind == "check" and c.validated
                                 for c in table.constraints.values()):
        return f"{scan} (its validated CHECK does not clearly imply the bounds)"
    return scan


def _hint(name: str, ctx: Context, bound: Node) -> str:
    if bound.get("is_default"):
        return (f"attach {name} while it is empty, or create the DEFAULT partition empty and "
                "move the rows in batches")
    parent = ctx.table(ctx.target)
    key = parent.partition_key if parent is not None and parent.known else ()
    wanted = describe(bound, key)
    if not wanted:
        return ("add a CHECK matching the bounds NOT VALID, VALIDATE it, then ATTACH (no scan) "
                "and drop the CHECK")
    return (f"ADD CONSTRAINT … CHECK ({wanted}) NOT VALID on {name}, VALIDATE it, then ATTACH "
            "(no scan) and drop the CHECK")
