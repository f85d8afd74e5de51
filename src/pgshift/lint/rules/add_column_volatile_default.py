"""add-column-volatile-default."""

from __future__ import annotations

from collections.abc import Iterator

from pgshift.lint.coercion import SERIALS, type_of
from pgshift.lint.context import Context
from pgshift.lint.nodes import Node, constraints_of, is_null_const
from pgshift.lint.rule import Rule, Violation, register
from pgshift.lint.volatility import is_volatile


@register
class AddColumnVolatileDefault(Rule):
    """ADD COLUMN with a volatile DEFAULT (``random()``, ``gen_random_uuid()``,
    ``clock_timestamp()``, a user function), or with any DEFAULT before PostgreSQL 11.

    Every existing row needs its own value, so PostgreSQL rewrites the whole table and its
    indexes while holding ACCESS EXCLUSIVE: reads and writes are blocked until it finishes.
    From PostgreSQL 11 a non-volatile default (a constant, ``now()``, ``CURRENT_TIMESTAMP``,
    a cast, ``'{}'::text[]``, ``(1 + 2)``, a function declared IMMUTABLE or STABLE) is stored
    in the catalog: no rewrite. A function the linter has not seen created is taken as
    VOLATILE, PostgreSQL's default.

    Safe way: add the column without a default (nullable), ``ALTER COLUMN … SET DEFAULT …``
    so new rows get it, then backfill existing rows in batches.

    ``pgshift create --recipe add-column-default`` writes it.
    """

    id = "add-column-volatile-default"
    nodes = ("AlterTableCmd",)
    size_matters = True

    def check(self, node: Node, ctx: Context) -> Iterator[Violation]:
        coldef = ctx.column_added_to_existing_table(node)
        if coldef is None:
            return
        typ = type_of(coldef.get("typeName"))
        constraints = constraints_of(coldef)
        if (typ is not None and typ.name in SERIALS) or any(
                c.get("contype") in ("CONSTR_IDENTITY", "CONSTR_GENERATED") for c in constraints):
            return  # add-column-serial-or-identity / add-column-generated-stored
        default = next((c.get("raw_expr") for c in constraints
                        if c.get("contype") == "CONSTR_DEFAULT"), None)
        if default is None or is_null_const(default):
            return
        column = coldef.get("colname", "")
        if ctx.pg_version < 11:
            why = f"before PostgreSQL 11 any DEFAULT (here on {column}) fills every row"
        elif is_volatile(default, ctx.schema):
            why = f"the DEFAULT of {column} is volatile, so every existing row gets its own value"
        else:
            return
        yield ctx.violation(
            self,
            f"ADD COLUMN {column} on {ctx.target}: {why}; PostgreSQL rewrites the table and its "
            "indexes under ACCESS EXCLUSIVE, blocking reads and writes until it finishes",
            f"add {column} without a default, SET DEFAULT for new rows, then backfill existing "
            "rows in batches",
            table=ctx.target,
            recipe="add-column-default",
        )
