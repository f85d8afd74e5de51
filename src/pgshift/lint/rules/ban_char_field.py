"""ban-char-field."""

from __future__ import annotations

from collections.abc import Iterator

from pgshift.lint.coercion import type_of
from pgshift.lint.context import Context
from pgshift.lint.nodes import Node
from pgshift.lint.rule import Rule, Violation, register


@register
class BanCharField(Rule):
    """A ``char(n)`` column (advisory).

    char pads values with spaces, compares ignoring them and is no faster than text; changing
    its length later rewrites the table.

    Safe way: use ``text`` (or ``varchar``), with a CHECK constraint for a fixed length.
    """

    id = "ban-char-field"
    nodes = ("ColumnDef",)
    severity = "warning"
    tier = "B"

    def check(self, node: Node, ctx: Context) -> Iterator[Violation]:
        typ = type_of(node.get("typeName"))
        if typ is None or typ.name != "bpchar":
            return
        yield ctx.violation(
            self,
            f"column {node.get('colname')} is char({typ.mods[0] if typ.mods else 1}): values are "
            "space-padded and changing the length rewrites the table",
            "use text with a CHECK constraint",
        )
