"""prefer-timestamptz."""

from __future__ import annotations

from collections.abc import Iterator

from pgshift.lint.coercion import type_of
from pgshift.lint.context import Context
from pgshift.lint.nodes import Node
from pgshift.lint.rule import Rule, Violation, register


@register
class PreferTimestamptz(Rule):
    """A ``timestamp`` (without time zone) column (advisory).

    It stores wall-clock time with no zone: values written by sessions in different time zones
    (or around DST changes) cannot be compared, and converting later rewrites the table.

    Safe way: use ``timestamptz``.
    """

    id = "prefer-timestamptz"
    nodes = ("ColumnDef", "AlterTableCmd")
    severity = "warning"
    tier = "B"

    def check(self, node: Node, ctx: Context) -> Iterator[Violation]:
        if "typeName" not in node:
            if node.get("subtype") != "AT_AlterColumnType":
                return
            node = (node.get("def") or {}).get("ColumnDef") or {}
        typ = type_of(node.get("typeName"))
        if typ is None or typ.name != "timestamp":
            return
        yield ctx.violation(
            self,
            "timestamp without time zone stores wall-clock time with no zone: values from "
            "different time zones cannot be compared",
            "use timestamptz",
        )
