"""What a backfill updates: an ``UPDATE`` taken apart so batches can add a key range to it.

Accepted: ``UPDATE table [AS alias] SET ... [FROM ...] [WHERE predicate]``, one statement,
without ``WITH``, ``RETURNING`` or ``WHERE CURRENT OF``. Parsing uses pglast (lazily).
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from psycopg2 import sql

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
    only: bool = False  # UPDATE ONLY: not the tables that inherit from it
    name: str = ""  # the table as SQL names it (quoted where needed), for messages
    from_list: str | None = None  # the FROM items, as SQL

    @property
    def qualified(self) -> str:
        """The table as the statement names it, for messages: ``schema.table``, ``"My T"``."""
        if self.name:
            return self.name
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
    name = RawStream()(ast.RangeVar(schemaname=relation.schemaname, relname=relation.relname,
                                    inh=True, relpersistence="p"))
    return BackfillStatement(
        text=text.strip().rstrip(";"),
        schema=relation.schemaname,
        table=relation.relname,
        reference=alias or relation.relname,
        head=RawStream()(head_node),
        predicate=predicate,
        assigned=tuple(target.name for target in node.targetList or () if target.name),
        only=not relation.inh,
        name=name,
        from_list=", ".join(RawStream()(item) for item in node.fromClause or ()) or None,
    )


def canonical(text: str) -> str:
    """``text`` as pglast prints it: the same UPDATE however it is spaced, cased or commented
    (``a=a+1`` and ``a = a + 1``) reads the same, so it is the same backfill."""
    from pglast import parser
    from pglast.stream import RawStream

    try:
        return ";\n".join(RawStream()(raw.stmt) for raw in parser.parse_sql(text))
    except parser.ParseError:
        return text.strip()


def batch_sql(statement: BackfillStatement, key_range: sql.Composable, *,
              returning_ctid: bool = False) -> sql.Composed:
    """The UPDATE of one batch: ``statement`` with ``key_range`` added to its predicate (and
    the ctid of each row it writes, to check them: see ``matching_sql``)."""
    # The unused CTE names the batch in pg_stat_statements, which (PostgreSQL 18) drops a
    # leading comment: phases.check_usage must not count our batches as the app's queries.
    update = sql.SQL("/* pgshift:backfill */ WITH pgshift_backfill AS (SELECT 1) {head} "
                     "WHERE ({predicate}) AND {range}").format(
        head=sql.SQL(statement.head), predicate=sql.SQL(statement.predicate or "true"),
        range=key_range)
    if returning_ctid:
        update += sql.SQL(" RETURNING {}").format(sql.Identifier(statement.reference, "ctid"))
    return update


def matching_sql(statement: BackfillStatement, ctids: list[str]) -> sql.Composed:
    """How many of the rows at ``ctids`` (as a batch left them) its WHERE still matches."""
    return sql.SQL("SELECT count(*) FROM ONLY {table} AS {ref}{more} WHERE {ref}.ctid = "
                   "ANY({ctids}::tid[]) AND ({predicate})").format(
        table=sql.SQL(statement.name or statement.qualified),
        ref=sql.Identifier(statement.reference),
        more=sql.SQL(f", {statement.from_list}" if statement.from_list else ""),
        ctids=sql.Literal(ctids), predicate=sql.SQL(statement.predicate or "true"))


def build_update(table: str, assignments: str, predicate: str | None) -> str:
    """The UPDATE text of a one-off ``pgshift backfill TABLE --set … --where …``."""
    text = f"UPDATE {table} SET {assignments}"
    return f"{text} WHERE {predicate}" if predicate else text
