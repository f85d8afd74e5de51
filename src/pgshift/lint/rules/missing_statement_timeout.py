"""missing-statement-timeout."""

from __future__ import annotations

from collections.abc import Iterator

from pgshift.lint.context import Context
from pgshift.lint.locks import LOCKING_STATEMENTS, statement_locks
from pgshift.lint.nodes import Node
from pgshift.lint.rule import Rule, Violation, register


@register
class MissingStatementTimeout(Rule):
    """Slow DDL with no ``statement_timeout`` in force (advisory).

    An index build, a validation scan or a table rewrite that runs far longer than expected
    holds its locks (and the database's I/O) with nothing to stop it. Reported once per file.

    Safe way: ``SET statement_timeout = '10min'`` (or what the operation needs) before it;
    ``--runner pgshift`` sets one for every migration.
    """

    id = "missing-statement-timeout"
    nodes = (*LOCKING_STATEMENTS, "UpdateStmt", "DeleteStmt")
    severity = "warning"
    tier = "B"

    def check(self, node: Node, ctx: Context) -> Iterator[Violation]:
        if ctx.state.get(self.id) or ctx.tx.in_force("statement_timeout"):
            return
        assert ctx.statement is not None
        kind = ctx.statement.kind
        slow = kind in ("UpdateStmt", "DeleteStmt") or (kind == "IndexStmt") or bool(
            statement_locks(kind, node, ctx))
        if not slow:
            return
        ctx.state[self.id] = True
        yield ctx.violation(
            self,
            "no statement_timeout is set: if this runs far longer than expected, nothing stops "
            "it while it holds its locks",
            "SET statement_timeout = '10min' (or what the operation needs) before it",
        )
