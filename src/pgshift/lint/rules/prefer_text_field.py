"""prefer-text-field."""

from __future__ import annotations

from collections.abc import Iterator

from pgshift.lint.coercion import type_of
from pgshift.lint.context import Context
from pgshift.lint.nodes import Node
from pgshift.lint.rule import Rule, Violation, register


@register
class PreferTextField(Rule):
    """A ``varchar(n)`` column (advisory).

    The length limit is a business rule hidden in the type: lowering it later rewrites the
    table under ACCESS EXCLUSIVE, and raising it needs a migration for every change.

    Safe way: ``text`` with a ``CHECK (length(col) <= n)`` constraint (added NOT VALID, then
    validated), which can be changed without a rewrite.
    """

    id = "prefer-text-field"
    nodes = ("ColumnDef",)
    severity = "warning"
    tier = "B"

    def check(self, node: Node, ctx: Context) -> Iterator[Violation]:
        typ = type_of(node.get("typeName"))
        if typ is None or typ.name != "varchar" or not typ.mods:
            return
        yield ctx.violation(
            self,
            f"column {node.get('colname')} is varchar({typ.mods[0]}): changing the limit later "
            "may rewrite the table",
            "use text with a CHECK (length(col) <= n) constraint",
        )
