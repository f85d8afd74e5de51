"""create-trigger-on-hot-table."""

from __future__ import annotations

from collections.abc import Iterator

from pgshift.lint.context import Context
from pgshift.lint.nodes import Node, relation_key
from pgshift.lint.rule import Rule, Violation, register


@register
class CreateTriggerOnHotTable(Rule):
    """CREATE TRIGGER on an existing table (advisory).

    It takes SHARE ROW EXCLUSIVE: writes to the table are blocked while it waits for running
    transactions, and the trigger then adds work to every write.

    Safe way: keep lock_timeout short and retry; keep the trigger function cheap.
    """

    id = "create-trigger-on-hot-table"
    nodes = ("CreateTrigStmt",)
    severity = "warning"
    tier = "B"

    def check(self, node: Node, ctx: Context) -> Iterator[Violation]:
        key = relation_key(node.get("relation"))
        if ctx.is_new(key):
            return
        yield ctx.violation(
            self,
            f"CREATE TRIGGER takes SHARE ROW EXCLUSIVE on {key}: writes wait while it queues, and "
            "every later write runs the trigger",
            "keep lock_timeout short with retries, and the trigger function cheap",
        )
