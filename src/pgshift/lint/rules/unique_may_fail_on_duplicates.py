"""unique-may-fail-on-duplicates."""

from __future__ import annotations

from collections.abc import Iterator

from pgshift.lint.context import Context
from pgshift.lint.nodes import Node, added_constraint, relation_key
from pgshift.lint.rule import Rule, Violation, register


@register
class UniqueMayFailOnDuplicates(Rule):
    """A unique index, UNIQUE or PRIMARY KEY on existing data (advisory).

    If the existing rows already hold duplicates, the migration fails (a failed CREATE UNIQUE
    INDEX CONCURRENTLY also leaves an INVALID index behind that still slows writes).

    Safe way: check for duplicates first (``SELECT … GROUP BY … HAVING count(*) > 1``) and
    clean them up in an earlier migration.
    """

    id = "unique-may-fail-on-duplicates"
    nodes = ("IndexStmt", "AlterTableCmd")
    severity = "warning"
    tier = "B"

    def check(self, node: Node, ctx: Context) -> Iterator[Violation]:
        if ctx.statement is not None and ctx.statement.kind == "IndexStmt":
            key = relation_key(node.get("relation"))
            if not node.get("unique"):
                return
        else:
            key = ctx.target
            con = added_constraint(node)
            if con is None or con.get("contype") not in ("CONSTR_UNIQUE", "CONSTR_PRIMARY"):
                return
        if ctx.is_new(key):
            return
        yield ctx.violation(
            self,
            f"existing duplicates in {key} make this fail (and a failed concurrent build leaves "
            "an INVALID index)",
            "check for duplicates and clean them up in an earlier migration",
        )
