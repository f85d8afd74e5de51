"""enum-value-used-in-transaction."""

from __future__ import annotations

from collections.abc import Iterator

from pgshift.lint.context import Context
from pgshift.lint.nodes import Node, const_value, walk
from pgshift.lint.rule import Rule, Violation, register


def _type_name(node: Node) -> str:
    """The type's last name part (``app.mood`` and ``mood`` are alike: a file rarely has two)."""
    names = node.get("typeName") or []
    last = names[-1] if names else {}
    return str((last.get("String") or {}).get("sval", "")).lower()


@register
class EnumValueUsedInTransaction(Rule):
    """A label ``ALTER TYPE … ADD VALUE`` added, used later in the same transaction.

    From PostgreSQL 12, ADD VALUE may run in a transaction block, but the new label cannot be
    used until that transaction commits (from PostgreSQL 17, unless the same transaction
    created the type): PostgreSQL fails the statement with "unsafe use of new value" and the
    migration rolls back. With ``--runner pgshift`` the whole file is one transaction.
    Before 12, ADD VALUE itself is refused in a transaction block
    (``concurrently-in-transaction``).

    Safe way: add the label in one migration and use it (UPDATE, a DEFAULT, a CHECK) in the
    next one.
    """

    id = "enum-value-used-in-transaction"
    # Where a label is used: the statements a migration writes data or defaults with.
    nodes = ("CreateEnumStmt", "AlterEnumStmt", "UpdateStmt", "InsertStmt", "DeleteStmt",
             "SelectStmt", "MergeStmt", "AlterTableStmt", "CreateStmt", "AlterDomainStmt",
             "CreateDomainStmt", "CreateFunctionStmt", "DoStmt", "ViewStmt")

    def check(self, node: Node, ctx: Context) -> Iterator[Violation]:
        if ctx.pg_version < 12 or not ctx.in_transaction:
            return
        # label -> (type, transaction, statement) of the file's ADD VALUEs; and the (type,
        # transaction) of its CREATE TYPE … AS ENUMs
        added, created = ctx.rule_state(self, lambda: ({}, set()))
        serial, index = ctx.tx.serial, ctx.statement.index if ctx.statement else -1
        if "vals" in node and "typeName" in node:  # CREATE TYPE … AS ENUM
            created.add((_type_name(node), serial))
            return
        if "newVal" in node:  # ALTER TYPE … ADD VALUE (RENAME VALUE has oldVal)
            fresh = ctx.pg_version >= 17 and (_type_name(node), serial) in created
            if not node.get("oldVal") and not fresh:
                added[str(node["newVal"])] = (_type_name(node), serial, index)
            return
        if not added:
            return  # the common case: no ADD VALUE earlier in the file, nothing to look for
        for kind, inner in walk(node):
            if kind != "A_Const":
                continue
            value = const_value({"A_Const": inner})
            known = added.get(value) if isinstance(value, str) else None
            if known is None or known[1] != serial or known[2] == index:
                continue
            yield ctx.violation(
                self,
                f"'{value}' was added to {known[0]} by ADD VALUE in this transaction: "
                "PostgreSQL refuses to use it before the transaction commits (unsafe use of "
                "new value)",
                f"add the value in one migration and use '{value}' in the next",
            )
            return
