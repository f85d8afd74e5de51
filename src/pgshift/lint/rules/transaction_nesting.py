"""transaction-nesting."""

from __future__ import annotations

from collections.abc import Iterator

from pgshift.lint.context import Context
from pgshift.lint.nodes import Node
from pgshift.lint.rule import Rule, Violation, register

_BEGIN = ("TRANS_STMT_BEGIN", "TRANS_STMT_START")
_END = ("TRANS_STMT_COMMIT", "TRANS_STMT_ROLLBACK")


@register
class TransactionNesting(Rule):
    """BEGIN inside an open transaction, or COMMIT/ROLLBACK with none open.

    A nested BEGIN only warns, and its COMMIT then ends the outer transaction early: the
    statements after it run outside the transaction the author expected, and a failure no
    longer rolls everything back. With ``--runner pgshift`` the file already runs in one
    transaction, so any BEGIN/COMMIT in it is nesting (pgshift refuses to run such a file).

    Safe way: with pgshift, remove BEGIN/COMMIT (or mark the file
    ``-- pgshift:no-transaction`` and manage transactions yourself); elsewhere, pair each
    BEGIN with one COMMIT.
    """

    id = "transaction-nesting"
    nodes = ("TransactionStmt",)

    def check(self, node: Node, ctx: Context) -> Iterator[Violation]:
        kind = node.get("kind", "")
        tx = ctx.tx
        if tx.runner_transaction and kind in _BEGIN + _END:
            refuses = " (pgshift refuses to run the file)" if tx.wrapper == "pgshift" else ""
            yield ctx.violation(
                self,
                f"{tx.wrapper} already runs this file in one transaction: this transaction "
                f"control would end it early{refuses}",
                "remove BEGIN/COMMIT, or run the file without the tool's transaction",
            )
        elif kind in _BEGIN and tx.open:
            yield ctx.violation(
                self,
                "BEGIN inside an open transaction only warns; the next COMMIT ends the outer "
                "transaction early",
                "remove the nested BEGIN",
            )
        elif kind in _END and not tx.open:
            yield ctx.violation(
                self,
                f"{'COMMIT' if kind == _END[0] else 'ROLLBACK'} with no transaction open: the "
                "statements before it were not in the transaction you expected",
                "add the missing BEGIN, or remove this line",
            )
