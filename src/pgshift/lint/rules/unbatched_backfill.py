"""unbatched-backfill."""

from __future__ import annotations

from collections.abc import Iterator

from pgshift.lint.context import Context
from pgshift.lint.nodes import Node, relation_key
from pgshift.lint.rule import Rule, Violation, register


@register
class UnbatchedBackfill(Rule):
    """UPDATE or DELETE with no WHERE on an existing table, inside a migration.

    It writes every row in one transaction: each row stays locked until commit (the app's
    updates of any row wait), it produces a burst of WAL and bloat, and in the same transaction
    as DDL the DDL's ACCESS EXCLUSIVE lock stays held for the whole backfill.

    A statement marked ``-- pgshift:backfill`` is run in batches by pgshift's runner and is not
    reported.

    Safe way: backfill in batches by key range, each batch in its own transaction, outside the
    schema migration: mark the statement ``-- pgshift:backfill`` in a ``no-transaction``
    migration, or use ``pgshift backfill``.
    """

    id = "unbatched-backfill"
    nodes = ("UpdateStmt", "DeleteStmt")
    size_matters = True

    def check(self, node: Node, ctx: Context) -> Iterator[Violation]:
        if node.get("whereClause") is not None:
            return
        statement = ctx.statement
        if statement is not None and statement.backfill and ctx.options.runner == "pgshift":
            return
        key = relation_key(node.get("relation"))
        if ctx.is_new(key):
            return
        what = "UPDATE" if "targetList" in node else "DELETE"  # also a WITH clause's
        held = sorted(ctx.tx.exclusive - {key}) if ctx.in_transaction else []
        extra = (f"; the ACCESS EXCLUSIVE lock already taken on {', '.join(held)} stays held "
                 "throughout") if held else ""
        if ctx.in_transaction and key in ctx.tx.exclusive:
            extra = f"; the ACCESS EXCLUSIVE lock this transaction holds on {key} blocks the app " \
                    "throughout"
        yield ctx.violation(
            self,
            f"{what} {key} without WHERE writes every row in one transaction: each row stays "
            f"locked until commit, with a burst of WAL and bloat{extra}",
            "backfill in batches by key range, one transaction per batch, outside the schema "
            "migration",
            table=key,
        )
