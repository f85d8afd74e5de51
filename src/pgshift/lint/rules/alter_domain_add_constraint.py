"""alter-domain-add-constraint."""

from __future__ import annotations

from collections.abc import Iterator

from pgshift.lint.context import Context
from pgshift.lint.nodes import Node, name_key, strings
from pgshift.lint.rule import Rule, Violation, register


@register
class AlterDomainAddConstraint(Rule):
    """ALTER DOMAIN … ADD CONSTRAINT without NOT VALID.

    PostgreSQL checks every column of that domain in every table, holding SHARE on each of
    those tables: their writes are blocked for the whole scan.

    Safe way: ``ALTER DOMAIN … ADD CONSTRAINT … NOT VALID``, then ``ALTER DOMAIN … VALIDATE
    CONSTRAINT`` later; or use CHECK constraints on the tables instead.
    """

    id = "alter-domain-add-constraint"
    nodes = ("AlterDomainStmt",)

    def check(self, node: Node, ctx: Context) -> Iterator[Violation]:
        if node.get("subtype") != "C":
            return
        con = (node.get("def") or {}).get("Constraint") or {}
        key = name_key(strings(node.get("typeName")))
        if con.get("skip_validation") or key in ctx.created.types:
            return
        yield ctx.violation(
            self,
            f"ALTER DOMAIN {key} ADD CONSTRAINT checks every column of type {key} in every "
            "table, holding SHARE on each: their writes are blocked for the scan",
            "add it NOT VALID, then ALTER DOMAIN … VALIDATE CONSTRAINT later",
        )
