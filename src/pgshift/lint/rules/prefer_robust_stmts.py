"""prefer-robust-stmts."""

from __future__ import annotations

from collections.abc import Iterator

from pgshift.lint.context import Context
from pgshift.lint.nodes import Node
from pgshift.lint.rule import Rule, Violation, register

_ALTER = {"AT_AddColumn": "ADD COLUMN IF NOT EXISTS", "AT_DropColumn": "DROP COLUMN IF EXISTS",
          "AT_DropConstraint": "DROP CONSTRAINT IF EXISTS"}


@register
class PreferRobustStmts(Rule):
    """A statement outside a transaction without IF [NOT] EXISTS (advisory).

    When a migration runs statement by statement (no transaction), a failure half-way leaves
    the earlier statements applied; re-running it then fails on "already exists" unless each
    statement is idempotent. Inside a transaction everything rolls back, so this does not apply.

    Safe way: ``CREATE … IF NOT EXISTS``, ``DROP … IF EXISTS``, ``ADD COLUMN IF NOT EXISTS``.
    """

    id = "prefer-robust-stmts"
    nodes = ("CreateStmt", "IndexStmt", "DropStmt", "AlterTableCmd")
    severity = "warning"
    tier = "B"

    def check(self, node: Node, ctx: Context) -> Iterator[Violation]:
        if ctx.in_transaction or ctx.statement is None:
            return
        kind = ctx.statement.kind
        if kind in ("CreateStmt", "IndexStmt") and not node.get("if_not_exists"):
            fix = "CREATE … IF NOT EXISTS"
        elif kind == "DropStmt" and not node.get("missing_ok"):
            fix = "DROP … IF EXISTS"
        elif kind == "AlterTableStmt" and node.get("subtype") in _ALTER and not node.get(
                "missing_ok"):
            fix = _ALTER[node["subtype"]]
        else:
            return
        yield ctx.violation(
            self,
            "outside a transaction a failed run leaves this applied, and a re-run then fails "
            "on it",
            f"make it idempotent: {fix}",
        )
