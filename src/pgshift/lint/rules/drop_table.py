"""drop-table."""

from __future__ import annotations

from collections.abc import Iterator

from pgshift.lint.context import Context
from pgshift.lint.definitions import drop_targets
from pgshift.lint.locks import drop_links
from pgshift.lint.nodes import Node
from pgshift.lint.rule import Rule, Violation, register
from pgshift.lint.schema import Table


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
            f"ACCESS EXCLUSIVE is taken on it{_linked(node, ctx)}",
            "confirm nothing uses it, rename it away for a release, then drop it",
            recipe="remove-table",
        )


def _linked(node: Node, ctx: Context) -> str:
    """The tables linked by foreign keys that the DROP locks too, named when the linter knows
    the dropped tables' definitions (from a schema, earlier migrations or the database)."""
    keys = drop_targets(node)
    linked = drop_links(ctx, keys, node.get("behavior") == "DROP_CASCADE")
    if linked:
        return f" and on {', '.join(linked)} (linked to it by foreign keys)"
    if all((ctx.table(key) or Table()).known for key in keys):
        return ""
    return " and on every table a foreign key links it to"
