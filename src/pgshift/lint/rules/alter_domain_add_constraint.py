"""alter-domain-add-constraint."""

from __future__ import annotations

from collections.abc import Iterator

from pgshift.lint.context import Context
from pgshift.lint.locks import domain_scan, domain_tables
from pgshift.lint.nodes import Node, name_key, strings
from pgshift.lint.rule import Rule, Violation, register


@register
class AlterDomainAddConstraint(Rule):
    """ALTER DOMAIN … ADD CONSTRAINT without NOT VALID, ALTER DOMAIN … VALIDATE CONSTRAINT, or
    ALTER DOMAIN … SET NOT NULL, on a domain this file did not create.

    PostgreSQL checks every column of that domain (or of a domain over it) in every table,
    holding SHARE on each of those tables: their writes are blocked for the whole scan. Unlike
    a table's VALIDATE CONSTRAINT, a domain's takes that same SHARE lock (PostgreSQL 15 to 18),
    so ``NOT VALID`` followed by ``VALIDATE`` only moves the blocking scan.

    Safe way: put the rule on the tables instead: ``ALTER TABLE … ADD CONSTRAINT … CHECK (…)
    NOT VALID``, then ``VALIDATE CONSTRAINT`` in a later transaction (SHARE UPDATE EXCLUSIVE:
    writes go on). ``ALTER DOMAIN … ADD CONSTRAINT … NOT VALID`` alone checks new values only,
    without a scan.
    """

    id = "alter-domain-add-constraint"
    nodes = ("AlterDomainStmt",)
    size_matters = True

    def check(self, node: Node, ctx: Context) -> Iterator[Violation]:
        key = name_key(strings(node.get("typeName")))
        if not domain_scan(node) or key in ctx.created.types:
            return
        what = {"C": "ADD CONSTRAINT", "V": f"VALIDATE CONSTRAINT {node.get('name', '')}",
                "O": "SET NOT NULL"}[node["subtype"]]
        tables = domain_tables(ctx, key)
        yield ctx.violation(
            self,
            f"ALTER DOMAIN {key} {what} scans every column of type {key} in every table"
            + (f" ({', '.join(tables)})" if tables else "")
            + ", holding SHARE on each: their writes are blocked for the whole scan",
            "put the rule on the tables as CHECK … NOT VALID, then VALIDATE CONSTRAINT in a "
            "later transaction (writes go on); a domain's VALIDATE takes SHARE too",
            table=tables[0] if len(tables) == 1 else None,
        )
