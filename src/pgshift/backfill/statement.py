"""What a backfill updates: an ``UPDATE`` taken apart so batches can add a key range to it.

Accepted: ``UPDATE table [AS alias] SET ... [FROM ...] [WHERE predicate]``, one statement,
without ``WITH``, ``RETURNING`` or ``WHERE CURRENT OF``. Parsing uses pglast (lazily).
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from pgshift.errors import InputError


@dataclass(frozen=True)
class BackfillStatement:
    """An UPDATE split into the part before WHERE and its predicate (None: every row)."""

    text: str
    schema: str | None
    table: str
    reference: str  # how the statement names the table: its alias, else its name
    head: str       # UPDATE … SET … [FROM …], no WHERE
    predicate: str | None
    assigned: tuple[str, ...] = ()  # the columns its SET writes

    @property
    def qualified(self) -> str:
        """The table as the user wrote it, for messages: ``schema.table`` or ``table``."""
        return f"{self.schema}.{self.table}" if self.schema else self.table


def parse_backfill(text: str, *, path: Path | None = None, line: int | None = None
                   ) -> BackfillStatement:
    """Take ``text`` apart, or raise InputError saying why it cannot be a backfill."""
    from pglast import ast, parser
    from pglast.stream import RawStream

    def refuse(message: str) -> InputError:
        return InputError(message, path=path, line=line,
                          hint="a backfill is one 'UPDATE table SET col = expr WHERE pred'")

    try:
        raw = parser.parse_sql(text)
    except parser.ParseError as exc:
        raise refuse(f"backfill statement does not parse: {exc.args[0]}") from None
    if len(raw) != 1 or not isinstance(raw[0].stmt, ast.UpdateStmt):
        raise refuse("a backfill must be a single UPDATE statement")
    node = raw[0].stmt
    if node.withClause is not None or getattr(node, "returningClause", None) or getattr(
            node, "returningList", None):
        raise refuse("a backfill UPDATE cannot have WITH or RETURNING")
    if isinstance(node.whereClause, ast.CurrentOfExpr):
        raise refuse("a backfill UPDATE cannot use WHERE CURRENT OF")
    relation = node.relation
    predicate = RawStream()(node.whereClause) if node.whereClause is not None else None
    head_node = ast.UpdateStmt(relation=relation, targetList=node.targetList,
                               fromClause=node.fromClause, whereClause=None)
    alias = relation.alias.aliasname if relation.alias is not None else None
    return BackfillStatement(
        text=text.strip().rstrip(";"),
        schema=relation.schemaname,
        table=relation.relname,
        reference=alias or relation.relname,
        head=RawStream()(head_node),
        predicate=predicate,
        assigned=tuple(target.name for target in node.targetList or () if target.name),
    )


def build_update(table: str, assignments: str, predicate: str | None) -> str:
    """The UPDATE text of a one-off ``pgshift backfill TABLE --set … --where …``."""
    text = f"UPDATE {table} SET {assignments}"
    return f"{text} WHERE {predicate}" if predicate else text
