"""reindex-non-concurrent."""

from __future__ import annotations

from collections.abc import Iterator

from pgshift.lint.context import Context
from pgshift.lint.nodes import Node, option_enabled, relation_key
from pgshift.lint.rule import Rule, Violation, register


@register
class ReindexNonConcurrent(Rule):
    """REINDEX INDEX/TABLE/SCHEMA/DATABASE without CONCURRENTLY.

    It takes SHARE on the table (writes blocked) and ACCESS EXCLUSIVE on each index being
    rebuilt, for the whole rebuild. Planning any query of a table opens all of its indexes, so
    that blocks every read of the table too, not only the reads that would use the index.

    Safe way: ``REINDEX … CONCURRENTLY`` (PostgreSQL 12+) outside a transaction
    (``-- pgshift:no-transaction``). Before 12, where CONCURRENTLY is a syntax error (also
    reported): ``CREATE INDEX CONCURRENTLY`` a copy, then ``DROP INDEX CONCURRENTLY`` the old
    one.
    """

    id = "reindex-non-concurrent"
    nodes = ("ReindexStmt",)
    size_matters = True

    def check(self, node: Node, ctx: Context) -> Iterator[Violation]:
        if option_enabled(node.get("params"), "concurrently"):
            if ctx.pg_version < 12:
                yield ctx.violation(
                    self, "REINDEX … CONCURRENTLY needs PostgreSQL 12: on "
                    f"{ctx.pg_version} it fails with a syntax error",
                    "CREATE INDEX CONCURRENTLY a copy of the index, then DROP INDEX "
                    "CONCURRENTLY the old one (and rename the copy)")
            return
        kind = node.get("kind", "")
        key = relation_key(node.get("relation")) or node.get("name") or ""
        table = key
        if kind == "REINDEX_OBJECT_INDEX":
            if key in ctx.created.indexes:
                return
            table = ctx.index_table(key) or key
        if ctx.is_new(table):
            return
        what = kind.replace("REINDEX_OBJECT_", "").lower()
        if ctx.pg_version >= 12:
            hint = f"REINDEX {what.upper()} CONCURRENTLY {key}, {ctx.no_transaction_way}"
        else:
            hint = ("before PostgreSQL 12: CREATE INDEX CONCURRENTLY a copy of the index, then "
                    "DROP INDEX CONCURRENTLY the old one")
        yield ctx.violation(
            self,
            f"REINDEX {what} {key} holds SHARE on the table and ACCESS EXCLUSIVE on each index "
            "it rebuilds: planning a query opens every index of its table, so reads and writes "
            "are blocked for the whole rebuild",
            hint,
            table=table,
        )
