"""add-column-constrained-domain."""

from __future__ import annotations

from collections.abc import Iterator

from pgshift.lint.context import Context
from pgshift.lint.definitions import column_of
from pgshift.lint.nodes import Node
from pgshift.lint.rule import Rule, Violation, register


@register
class AddColumnConstrainedDomain(Rule):
    """ADD COLUMN of a domain that has a CHECK or NOT NULL (its own or a base domain's, NOT
    VALID ones included), with or without a DEFAULT.

    PostgreSQL must check the domain against every existing row's new value, so it rewrites
    the table and its indexes while holding ACCESS EXCLUSIVE: reads and writes are blocked
    until it finishes. Even a constant DEFAULT, metadata-only for other types, does not avoid
    it; a NOT NULL domain without a default fails at once on a table with rows. A domain
    without constraints, and an array of a domain (a NULL array holds no element to check),
    add no rewrite. The domain's constraints come from the live database, the schema file,
    earlier migrations or earlier statements.

    Safe way: add the column with the domain's base type, put the domain's CHECK on the table
    as ``ADD CONSTRAINT … CHECK (…) NOT VALID`` (a NOT NULL as ``CHECK (col IS NOT NULL)``,
    after a backfill), then ``VALIDATE CONSTRAINT`` in a later transaction (SHARE UPDATE
    EXCLUSIVE: reads and writes go on).
    """

    id = "add-column-constrained-domain"
    nodes = ("AlterTableCmd",)
    size_matters = True

    def check(self, node: Node, ctx: Context) -> Iterator[Violation]:
        coldef = ctx.column_added_to_existing_table(node)
        if coldef is None:
            return
        type_name = coldef.get("typeName") or {}
        domain = ctx.domain_key(type_name)
        if domain is None or type_name.get("arrayBounds"):
            return
        if not ctx.schema.domain_constrained(domain):
            return
        table = ctx.table(ctx.target)
        if table is not None and table.kind in ("foreign", "view"):
            return  # no storage: nothing to rewrite
        name = coldef.get("colname", "")
        why = (f"ADD COLUMN {name} {domain} on {ctx.target}: {domain} is a domain with "
               "constraints, so PostgreSQL checks it on every existing row and rewrites the "
               "table and its indexes under ACCESS EXCLUSIVE, blocking reads and writes until "
               "it finishes")
        column, _ = column_of(coldef)
        chain = ctx.schema.domain_chain(domain)
        if not column.has_default and not chain[0].has_default and any(
                d.not_null for d in chain):
            why += f" (and with no DEFAULT its NOT NULL fails at once if {ctx.target} has rows)"
        yield ctx.violation(
            self,
            why,
            f"add {name} with {domain}'s base type, add the domain's CHECK to the table as "
            "NOT VALID, then VALIDATE CONSTRAINT in a later transaction",
            table=ctx.target,
        )
