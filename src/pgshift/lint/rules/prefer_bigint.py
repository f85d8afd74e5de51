"""prefer-bigint."""

from __future__ import annotations

from collections.abc import Iterator

from pgshift.lint.coercion import type_of
from pgshift.lint.context import Context
from pgshift.lint.nodes import Node
from pgshift.lint.rule import Rule, Violation, register

_SMALL = {"int2": "smallint", "int4": "integer", "serial": "serial", "serial4": "serial",
          "smallserial": "smallserial", "serial2": "smallserial"}


@register
class PreferBigint(Rule):
    """A smallint/integer/serial column (advisory).

    Ids and counters outgrow 32 bits (2.1 billion) sooner than expected, and widening the
    column later to bigint rewrites the table under ACCESS EXCLUSIVE.

    Safe way: use ``bigint`` (``bigint GENERATED … AS IDENTITY`` for ids) from the start.
    """

    id = "prefer-bigint"
    nodes = ("ColumnDef",)
    severity = "warning"
    tier = "B"

    def check(self, node: Node, ctx: Context) -> Iterator[Violation]:
        typ = type_of(node.get("typeName"))
        if typ is None or typ.array or typ.name not in _SMALL:
            return
        yield ctx.violation(
            self,
            f"column {node.get('colname')} is {_SMALL[typ.name]}: widening it later to bigint "
            "rewrites the table",
            "use bigint",
        )
