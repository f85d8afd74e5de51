"""truncate-cascade."""

from __future__ import annotations

from collections.abc import Iterator

from pgshift.lint.context import Context
from pgshift.lint.locks import truncate_links
from pgshift.lint.nodes import Node, relation_key
from pgshift.lint.rule import Rule, Violation, register


@register
class TruncateCascade(Rule):
    """TRUNCATE … CASCADE.

    It also empties every table that references the named ones through foreign keys,
    recursively: data you did not name is lost, under ACCESS EXCLUSIVE on each table.

    Safe way: name every table to truncate explicitly (without CASCADE), so the statement
    fails instead of deleting more than intended.
    """

    id = "truncate-cascade"
    nodes = ("TruncateStmt",)

    def check(self, node: Node, ctx: Context) -> Iterator[Violation]:
        if node.get("behavior") != "DROP_CASCADE":
            return
        keys = [relation_key(r.get("RangeVar")) for r in node.get("relations") or ()]
        linked = truncate_links(ctx, keys)
        # Named when the linter knows them; the schema it has may not list every table.
        also = f"{', '.join(linked)} and any other table" if linked else "every table"
        yield ctx.violation(
            self,
            f"TRUNCATE {', '.join(keys)} CASCADE also empties {also} that references it, "
            "recursively, under ACCESS EXCLUSIVE on each: data you did not name is lost",
            "list the tables to truncate explicitly, without CASCADE",
        )
