"""rename-enum-value."""

from __future__ import annotations

from collections.abc import Iterator

from pgshift.lint.context import Context
from pgshift.lint.nodes import Node, name_key, strings
from pgshift.lint.rule import Rule, Violation, register


@register
class RenameEnumValue(Rule):
    """ALTER TYPE … RENAME VALUE.

    The lock is brief, but the running code still writes and compares the old label: its
    queries fail with "invalid input value for enum" as soon as the rename commits.

    Safe way: ``ADD VALUE`` the new label, move rows and code to it, and retire the old label
    later (or keep both).
    """

    id = "rename-enum-value"
    nodes = ("AlterEnumStmt",)

    def check(self, node: Node, ctx: Context) -> Iterator[Violation]:
        if not node.get("oldVal"):
            return
        key = name_key(strings(node.get("typeName")))
        if key in ctx.created.types:
            return
        yield ctx.violation(
            self,
            f"RENAME VALUE '{node['oldVal']}' of {key}: running code that uses "
            f"'{node['oldVal']}' fails with 'invalid input value for enum' once this commits",
            f"ADD VALUE '{node.get('newVal')}', migrate rows and code, retire the old label later",
        )
