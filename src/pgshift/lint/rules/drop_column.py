"""drop-column."""

from __future__ import annotations

from collections.abc import Iterator

from pgshift.lint.context import Context
from pgshift.lint.definitions import drop_targets
from pgshift.lint.nodes import Node
from pgshift.lint.rule import Rule, Violation, register


@register
class DropColumn(Rule):
    """DROP COLUMN on an existing table, or DROP TYPE/DOMAIN … CASCADE of a type that existing
    columns have (PostgreSQL drops those columns with it).

    The lock is brief (the column is only marked dropped), but the running app breaks: any
    query that names the column fails at once, and ORMs that list every column in their
    SELECTs and INSERTs fail on every query of the table until the new code is deployed.

    Safe way: first deploy code that no longer reads or writes the column (e.g. tell the ORM
    to ignore it), then drop it in a later migration.

    ``pgshift create --recipe remove-column`` writes it.
    """

    id = "drop-column"
    nodes = ("AlterTableCmd", "DropStmt")

    def check(self, node: Node, ctx: Context) -> Iterator[Violation]:
        if "removeType" in node:
            yield from self._drop_type_cascade(node, ctx)
            return
        column = ctx.existing_column(node, "AT_DropColumn")
        if column is None:
            return
        yield ctx.violation(
            self,
            f"DROP COLUMN {column} on {ctx.target}: running code that still reads or writes "
            f"{column} (ORMs list every column) fails at once",
            f"deploy code that no longer uses {column} first (ignore it in the ORM), then drop "
            "it in a later migration",
            recipe="remove-column",
        )

    def _drop_type_cascade(self, node: Node, ctx: Context) -> Iterator[Violation]:
        if node.get("removeType") not in ("OBJECT_TYPE", "OBJECT_DOMAIN") or node.get(
                "behavior") != "DROP_CASCADE":
            return
        for key in drop_targets(node):
            name = key.rsplit(".", 1)[-1]
            columns = [f"{table}.{column}" for table, column in _columns_of_type(ctx, name)]
            if not columns:
                continue
            shown = ", ".join(columns[:5]) + (", …" if len(columns) > 5 else "")
            yield ctx.violation(
                self,
                f"DROP TYPE {key} CASCADE also drops the columns of that type, with their data: "
                f"{shown}; running code that still reads or writes them fails at once",
                "deploy code that no longer uses those columns, drop them in a later migration, "
                "then drop the type without CASCADE",
                recipe="remove-column",
            )


def _columns_of_type(ctx: Context, name: str) -> Iterator[tuple[str, str]]:
    """(table, column) of existing tables whose column has the type (or domain) ``name``."""
    for key, table in ctx.schema.tables.items():
        if ctx.is_new(key):
            continue
        for column, model in table.columns.items():
            if model.type is not None and model.type.name == name and (
                    key, column) not in ctx.created.columns:
                yield key, column
