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
    ``clock_timestamp()``, a user function), its own or, when it sets none, its domain's; or
    with any DEFAULT before PostgreSQL 11.

    Every existing row needs its own value, so PostgreSQL rewrites the whole table and its
    indexes while holding ACCESS EXCLUSIVE: reads and writes are blocked until it finishes.
    From PostgreSQL 11 a non-volatile default (a constant, ``now()``, ``CURRENT_TIMESTAMP``,
    a cast, ``'{}'::text[]``, ``(1 + 2)``, a function declared IMMUTABLE or STABLE) is stored
    in the catalog: no rewrite. A function the linter has not seen created is taken as
    VOLATILE, PostgreSQL's default. A column's ``DEFAULT NULL`` overrides its domain's
    default (no rewrite); a domain with constraints is reported by
    add-column-constrained-domain instead (it rewrites whatever its default).

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
        column = coldef.get("colname", "")
        default = next((c.get("raw_expr") for c in constraints
                        if c.get("contype") == "CONSTR_DEFAULT"), None)
        whose = f"the DEFAULT of {column}"
        if default is None:
            default, whose = _domain_default(coldef, ctx)
        if default is None or is_null_const(default):
            return
        if ctx.pg_version < 11:
            why = f"before PostgreSQL 11 any DEFAULT (here {whose}) fills every row"
        elif is_volatile(default, ctx.schema):
            why = f"{whose} is volatile, so every existing row gets its own value"
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


def _domain_default(coldef: Node, ctx: Context) -> tuple[Node | None, str]:
    """The default a column without one of its own gets from its domain (not an array of it),
    unless the domain has constraints: add-column-constrained-domain reports that rewrite."""
    type_name = coldef.get("typeName") or {}
    domain = None if type_name.get("arrayBounds") else ctx.domain_key(type_name)
    if domain is None or ctx.schema.domain_constrained(domain):
        return None, ""
    known = ctx.schema.domains[domain]
    if known.has_default and known.default is None:  # a default the linter could not read
        return None, ""
    return known.default, f"the DEFAULT of {coldef.get('colname', '')}'s domain {domain}"
