"""naming-convention."""

from __future__ import annotations

from collections.abc import Iterator

from pgshift.lint.context import Context
from pgshift.lint.nodes import Node, walk
from pgshift.lint.rule import Rule, Violation, register

_ALLOWED = set("abcdefghijklmnopqrstuvwxyz0123456789_")


@register
class NamingConvention(Rule):
    """A table, column, index or constraint name that is not lower snake_case (advisory).

    Names with capitals, spaces or punctuation must be double-quoted in every query forever,
    and unquoted references silently fold to lower case and miss them.

    Safe way: lower-case letters, digits and underscores: ``order_items``.
    """

    id = "naming-convention"
    nodes = ("CreateStmt", "IndexStmt", "AlterTableStmt", "ViewStmt")
    severity = "warning"
    tier = "B"

    def check(self, node: Node, ctx: Context) -> Iterator[Violation]:
        names = [node.get("idxname") or "", ((node.get("relation") if ctx.statement and
                 ctx.statement.kind == "CreateStmt" else None) or {}).get("relname") or "",
                 (node.get("view") or {}).get("relname") or ""]
        for kind, fields in walk(node):
            if kind == "ColumnDef":
                names.append(fields.get("colname") or "")
            elif kind == "Constraint":
                names.append(fields.get("conname") or "")
        for name in names:
            if name and not set(name) <= _ALLOWED:
                yield ctx.violation(
                    self,
                    f"'{name}' is not lower snake_case: it must be double-quoted in every query",
                    "use lower-case letters, digits and underscores",
                )
                return
