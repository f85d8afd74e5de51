"""drop-table."""

from __future__ import annotations

from collections.abc import Iterator

from pgshift.lint.context import Context
from pgshift.lint.definitions import drop_targets
from pgshift.lint.nodes import Node
from pgshift.lint.rule import Rule, Violation, register


@register
class DropTable(Rule):
    """DROP TABLE on an existing table.

    Running code that still reads or writes the table fails at once and the data is gone.
    It takes ACCESS EXCLUSIVE on the table and on every table a foreign key links it to: the
    tables it references (their triggers go), and with CASCADE the tables referencing it.

    Safe way: make sure no code uses the table (deploy first), rename it away for a release so
    anything still using it shows up while the data is still there, then drop it.

    ``pgshift create --recipe remove-table`` writes it.
    """

    id = "drop-table"
    nodes = ("DropStmt",)

    def check(self, node: Node, ctx: Context) -> Iterator[Violation]:
        if node.get("removeType") != "OBJECT_TABLE":
            return
        existing = [key for key in drop_targets(node) if not ctx.is_new(key)]
        if not existing:
            return
        names = ", ".join(existing)
        yield ctx.violation(
            self,
            f"DROP TABLE {names}: running code that still uses it fails and the data is lost; "
            "ACCESS EXCLUSIVE is taken on it and on every table a foreign key links it to",
            "confirm nothing uses it, rename it away for a release, then drop it",
            recipe="remove-table",
        )
