"""create-index-non-concurrent."""

from __future__ import annotations

from collections.abc import Iterator

from pgshift.lint.context import Context
from pgshift.lint.nodes import Node, relation_key
from pgshift.lint.rule import Rule, Violation, register


@register
class CreateIndexNonConcurrent(Rule):
    """CREATE INDEX without CONCURRENTLY on an existing table.

    The build holds a SHARE lock on the table from start to end: reads go on, but every
    INSERT, UPDATE and DELETE waits until the index is built, which takes minutes on a large
    table. An index on a table created earlier in the same file is fine (the table is empty).

    Safe way: ``CREATE INDEX CONCURRENTLY IF NOT EXISTS`` in a migration of its own that runs
    outside a transaction (``-- pgshift:no-transaction``). If the build fails it leaves an
    INVALID index: drop it with ``DROP INDEX CONCURRENTLY IF EXISTS`` and retry. For a
    partitioned table, where CONCURRENTLY fails (PostgreSQL refuses it there): ``CREATE INDEX
    … ON ONLY parent``, then ``CREATE INDEX CONCURRENTLY`` on each partition and ``ALTER INDEX
    … ATTACH PARTITION``.

    ``pgshift create --recipe add-index`` writes it (for a partitioned table, when it can reach
    the database to list the partitions).
    """

    id = "create-index-non-concurrent"
    nodes = ("IndexStmt",)
    size_matters = True

    def check(self, node: Node, ctx: Context) -> Iterator[Violation]:
        key = relation_key(node.get("relation"))
        table = ctx.table(key)
        if node.get("concurrent") and table is not None and table.kind == "partitioned":
            yield ctx.violation(
                self,
                f"CREATE INDEX CONCURRENTLY on the partitioned table {key} fails: PostgreSQL "
                "cannot build an index on a partitioned table concurrently",
                "create it ON ONLY the parent, then CREATE INDEX CONCURRENTLY on each "
                "partition and ALTER INDEX … ATTACH PARTITION")
            return
        if node.get("concurrent") or ctx.is_new(key):
            return
        only = not (node.get("relation") or {}).get("inh")
        if only and not (table is not None and table.known and table.kind == "table"):
            return  # ON ONLY a partitioned parent: no build, the index starts invalid
        what = "CREATE UNIQUE INDEX" if node.get("unique") else "CREATE INDEX"
        if table is not None and table.kind == "partitioned":
            hint = ("create it ON ONLY the parent, then CREATE INDEX CONCURRENTLY on each "
                    "partition and ALTER INDEX … ATTACH PARTITION")
        else:
            hint = (f"CREATE INDEX CONCURRENTLY IF NOT EXISTS, {ctx.no_transaction_way}; "
                    "if it fails, DROP INDEX CONCURRENTLY the INVALID index and retry")
        yield ctx.violation(
            self,
            f"{what} on {key} holds a SHARE lock for the whole build: every INSERT, UPDATE "
            f"and DELETE on {key} waits until the index is built",
            hint,
            table=key,
            recipe=None if table is not None and table.kind == "partitioned" else "add-index",
        )
