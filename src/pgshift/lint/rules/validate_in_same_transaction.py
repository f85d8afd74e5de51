"""validate-in-same-transaction."""

from __future__ import annotations

from collections.abc import Iterator

from pgshift.lint.context import Context
from pgshift.lint.definitions import constraint_of
from pgshift.lint.nodes import Node, added_constraint
from pgshift.lint.rule import Rule, Violation, register


@register
class ValidateInSameTransaction(Rule):
    """A NOT VALID constraint validated in the same transaction that added it.

    ``ADD CONSTRAINT … NOT VALID`` took ACCESS EXCLUSIVE (or SHARE ROW EXCLUSIVE for a foreign
    key), and locks are held until the transaction ends: the VALIDATE scan then runs with that
    lock still held, blocking the app exactly as if NOT VALID had not been used. With
    ``--runner pgshift`` the whole file is one transaction.

    Safe way: COMMIT between the ADD and the VALIDATE: put the VALIDATE in the next migration
    (or mark the file ``-- pgshift:no-transaction`` so each statement commits on its own).
    """

    id = "validate-in-same-transaction"
    nodes = ("AlterTableCmd",)
    size_matters = True

    def check(self, node: Node, ctx: Context) -> Iterator[Violation]:
        if not ctx.altering_table() or ctx.is_new(ctx.target):
            return
        added: dict[tuple[str, str], int] = ctx.rule_state(self)
        con = added_constraint(node)
        if con is not None and con.get("skip_validation") and ctx.in_transaction:
            name, _ = constraint_of(con, ctx.target)
            added[(ctx.target, name)] = ctx.tx.serial
            return
        if node.get("subtype") != "AT_ValidateConstraint" or not ctx.in_transaction:
            return
        name = node.get("name", "")
        if added.get((ctx.target, name)) != ctx.tx.serial:
            return
        yield ctx.violation(
            self,
            f"VALIDATE CONSTRAINT {name} runs in the transaction that added it: the ADD's lock "
            f"on {ctx.target} is still held, so its scan blocks the app as if NOT VALID had not "
            "been used",
            "commit in between: move the VALIDATE to the next migration",
            table=ctx.target,
        )
