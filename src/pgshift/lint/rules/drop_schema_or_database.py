"""drop-schema-or-database."""

from __future__ import annotations

from collections.abc import Iterator

from pgshift.lint.context import Context
from pgshift.lint.definitions import drop_targets
from pgshift.lint.nodes import Node
from pgshift.lint.rule import Rule, Violation, register


@register
class DropSchemaOrDatabase(Rule):
    """DROP SCHEMA or DROP DATABASE.

    Every table inside is dropped with its data, under ACCESS EXCLUSIVE on each of them; all
    code using them fails. This is never a routine migration step.

    Safe way: do it by hand as a planned operation, after confirming nothing uses it.
    """

    id = "drop-schema-or-database"
    nodes = ("DropStmt", "DropdbStmt")

    def check(self, node: Node, ctx: Context) -> Iterator[Violation]:
        if ctx.statement is not None and ctx.statement.kind == "DropdbStmt":
            what = f"DROP DATABASE {node.get('dbname', '')}"
        elif node.get("removeType") == "OBJECT_SCHEMA":
            names = [n for n in drop_targets(node) if n not in ctx.created.schemas]
            if not names:
                return
            what = f"DROP SCHEMA {', '.join(names)}"
        else:
            return
        yield ctx.violation(
            self,
            f"{what} drops every table inside with its data (ACCESS EXCLUSIVE on each); all "
            "code using them fails",
            "do it by hand as a planned operation, not in a migration",
        )
