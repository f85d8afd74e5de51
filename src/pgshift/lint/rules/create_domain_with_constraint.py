"""create-domain-with-constraint."""

from __future__ import annotations

from collections.abc import Iterator

from pgshift.lint.context import Context
from pgshift.lint.nodes import Node
from pgshift.lint.rule import Rule, Violation, register


@register
class CreateDomainWithConstraint(Rule):
    """CREATE DOMAIN with a CHECK constraint (advisory).

    Changing a domain's constraint later scans every column of that type in every table under
    SHARE locks, and constraints on domains are easy to forget when the rule changes.

    Safe way: a plain domain (or base type) with CHECK constraints on the tables that use it.
    """

    id = "create-domain-with-constraint"
    nodes = ("CreateDomainStmt",)
    severity = "warning"
    tier = "B"

    def check(self, node: Node, ctx: Context) -> Iterator[Violation]:
        if not any((c.get("Constraint") or {}).get("contype") == "CONSTR_CHECK"
                   for c in node.get("constraints") or ()):
            return
        yield ctx.violation(
            self,
            "a CHECK on a domain is hard to change later: every column of the domain is "
            "re-checked under SHARE locks",
            "use CHECK constraints on the tables instead",
        )
