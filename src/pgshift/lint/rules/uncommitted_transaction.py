"""uncommitted-transaction."""

from __future__ import annotations

from collections.abc import Iterator

from pgshift.lint.context import Context
from pgshift.lint.rule import Rule, Violation, register


@register
class UncommittedTransaction(Rule):
    """BEGIN with no COMMIT or ROLLBACK by the end of the file.

    The transaction stays open: every lock it took is held until the session ends (and its
    changes are then rolled back, or committed by whatever runs next on the connection).

    Safe way: end the transaction with COMMIT in the same file.
    """

    id = "uncommitted-transaction"
    nodes = ()

    def finish(self, ctx: Context) -> Iterator[Violation]:
        tx = ctx.tx
        if tx.open and tx.explicit and tx.begin_index is not None:
            yield ctx.violation(
                self,
                "this BEGIN is never committed: its locks are held until the session ends and "
                "its changes may be lost",
                "add COMMIT at the end of the file",
                statement=tx.begin_index,
            )
