"""identifier-too-long."""

from __future__ import annotations

from collections.abc import Iterator

from pgshift.lint.context import Context
from pgshift.lint.nodes import Node
from pgshift.lint.rule import Rule, Violation, register

MAX_BYTES = 63


@register
class IdentifierTooLong(Rule):
    """A name longer than 63 bytes (advisory).

    PostgreSQL silently truncates identifiers to 63 bytes: two long names can collide, and
    later migrations that use the full name do not find the object.

    Safe way: keep names to 63 bytes.
    """

    id = "identifier-too-long"
    nodes = ("CreateStmt", "IndexStmt", "AlterTableStmt", "ViewStmt", "CreateTableAsStmt",
             "RenameStmt")
    severity = "warning"
    tier = "B"

    def check(self, node: Node, ctx: Context) -> Iterator[Violation]:
        # The parser already truncated the names in the tree: look at the tokens instead.
        from pglast import parser

        statement = ctx.statement
        if statement is None or statement.in_do or not statement.length:
            return
        data = ctx.source.data[statement.offset: statement.offset + statement.length]
        text = data.decode("utf-8", "replace")
        for token in parser.scan(text):
            if token.name != "IDENT":
                continue
            name = text[token.start: token.end + 1].strip('"')
            if len(name.encode("utf-8")) > MAX_BYTES:
                yield ctx.violation(
                    self,
                    f"'{name[:40]}…' is {len(name.encode('utf-8'))} bytes: PostgreSQL truncates "
                    "it to 63",
                    "use a name of at most 63 bytes",
                )
                return
