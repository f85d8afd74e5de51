"""lock-table-explicit."""

from __future__ import annotations

from collections.abc import Iterator

from pgshift.lint.context import Context
from pgshift.lint.locks import LOCK_MODES, WHAT_IT_BLOCKS
from pgshift.lint.nodes import Node, relation_key
from pgshift.lint.rule import Rule, Violation, register


@register
class LockTableExplicit(Rule):
    """LOCK TABLE in SHARE mode or stronger (the default mode is ACCESS EXCLUSIVE).

    The lock is held until the transaction ends: SHARE and stronger block the app's writes,
    ACCESS EXCLUSIVE its reads too, for everything the transaction does afterwards.

    Safe way: rely on row-level locks (``SELECT … FOR UPDATE``) and batched DML instead of
    locking whole tables.
    """

    id = "lock-table-explicit"
    nodes = ("LockStmt",)

    def check(self, node: Node, ctx: Context) -> Iterator[Violation]:
        mode = LOCK_MODES.get(int(node.get("mode") or 8))
        if mode is None:
            return
        keys = [relation_key(r.get("RangeVar")) for r in node.get("relations") or ()]
        existing = [k for k in keys if not ctx.is_new(k)]
        if not existing:
            return
        names = ", ".join(existing)
        yield ctx.violation(
            self,
            f"LOCK TABLE {names} IN {mode} MODE {WHAT_IT_BLOCKS[mode]} of {names} until the "
            "transaction ends",
            "use row-level locks (SELECT … FOR UPDATE) and batched DML instead",
        )
