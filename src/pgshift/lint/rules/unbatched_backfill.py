"""unbatched-backfill."""

from __future__ import annotations

from collections.abc import Iterator

from pgshift.lint.context import Context
from pgshift.lint.nodes import Node, const_value, relation_key, strings
from pgshift.lint.rule import Rule, Violation, register


@register
class UnbatchedBackfill(Rule):
    """UPDATE or DELETE with no WHERE (or one that holds for every row: ``WHERE true``,
    ``WHERE 1 = 1``) on an existing table, inside a migration.

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
        if node.get("whereClause") is not None and not _always_true(node["whereClause"]):
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


def _always_true(where: Node) -> bool:
    """``true``, ``'t'::boolean``, ``NOT false``, ``1 = 1``: a WHERE every row satisfies."""
    if "BoolExpr" in where:
        inner = where["BoolExpr"]
        args = inner.get("args") or []
        if inner.get("boolop") == "NOT_EXPR" and len(args) == 1:
            return const_value(args[0]) in (False, "f", "false")
        return inner.get("boolop") == "AND_EXPR" and all(_always_true(a) for a in args)
    if "A_Expr" in where:
        expr = where["A_Expr"]
        left, right = const_value(expr.get("lexpr")), const_value(expr.get("rexpr"))
        return (expr.get("kind") == "AEXPR_OP" and strings(expr.get("name")) == ["="]
                and left is not None and left == right)
    return const_value(where) in (True, "t", "true")
