"""change-column-type's conversions, read and tried before anything is written.

``--using`` is an expression over the old column that gives a value of ``--type``;
``--reverse-using`` one over the new column that gives the old type back (the sync trigger
copies the new application's writes with it, and the contract step's down part backfills the
old column with it). Without them the recipe casts (``old::type``, ``new::old_type``).

Each is read first (pglast): it must be one expression that the recipe can write where it
writes it (no ``;``, no alias, no ``--`` comment hiding the rest of the line), and a given one
must use its column: an expression that does not (``--using 0``) would fill every row with the
same value and lose what the column held, so it is refused. Then, with a database, each is
tried where the migrations evaluate it, on an empty temporary copy of the table with the new
column added, in a transaction that is rolled back: in the sync trigger's shape, which sees no
column but its own, and in the backfill's UPDATE, which assigns it to the other column's type.
``EXPLAIN`` only: PostgreSQL parses and plans, no row is read and nothing is run.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from pgshift.errors import InputError
from pgshift.recipes import probe
from pgshift.recipes.model import RecipeParams, ident, one_expression

if TYPE_CHECKING:
    from psycopg2.extensions import cursor as Cursor

    from pgshift.recipes.refusals import Refusal


@dataclass(frozen=True)
class Conversion:
    """One direction of change-column-type: ``expression`` over ``source`` fills ``target``."""

    option: str       # '--using' or '--reverse-using'
    expression: str   # as given, or the recipe's cast
    given: bool
    source: str       # the column the expression is written over (its name, unquoted)
    target: str       # the column it fills
    target_type: str

    @property
    def what(self) -> str:
        """How a message names it: the option and the expression."""
        return f"{self.option} {self.expression}" if self.given else (
            f"no {self.option}, and the cast {self.expression}")


def conversions(p: RecipeParams, old_type: str) -> tuple[Conversion, Conversion]:
    """change-column-type's conversion to the new column and back, as given or its casts."""
    assert p.column and p.new_column and p.type
    return (
        Conversion("--using", p.using if p.using is not None else
                   f"{ident(p.column)}::{p.type}", p.using is not None, p.column,
                   p.new_column, p.type),
        Conversion("--reverse-using", p.reverse_using if p.reverse_using is not None else
                   f"{ident(p.new_column)}::{old_type}", p.reverse_using is not None,
                   p.new_column, p.column, old_type))


def read_error(conversion: Conversion) -> str | None:
    """Why the expression cannot be written where the recipe writes it: PostgreSQL's parser
    (pglast) says, or it is not one expression over its column; None when it can."""
    tree, error = one_expression(conversion.expression)
    if tree is None:
        return error
    if conversion.given and conversion.source not in _column_names(tree):
        return f"does not use {conversion.source}, the column it converts"
    return None


def type_read_error(column_type: str) -> str | None:
    """Why ``--type`` cannot be written after ``ADD COLUMN name``: PostgreSQL's parser says, or
    it is more than a type; None when it can."""
    from pglast.parser import ParseError, parse_sql_json

    try:
        tree = json.loads(parse_sql_json(f"ALTER TABLE t ADD COLUMN c {column_type}"))
    except ParseError as exc:
        return str(exc.args[0])
    statements = tree.get("stmts", [])
    if len(statements) != 1 or len(statements[0]["stmt"].get("AlterTableStmt", {}).get(
            "cmds", [])) != 1:
        return "is not one type"
    return None


def _column_names(node: Any) -> set[str]:
    """The last name of every column reference in a pglast JSON tree."""
    names: set[str] = set()
    if isinstance(node, dict):
        ref = node.get("ColumnRef")
        if ref is not None:
            last = ref["fields"][-1]
            if "String" in last:
                names.add(last["String"]["sval"])
        for value in node.values():
            names |= _column_names(value)
    elif isinstance(node, list):
        for value in node:
            names |= _column_names(value)
    return names


def hint(conversion: Conversion, source_type: str) -> str:
    """How to write ``conversion``, naming its column and the types on both sides."""
    return (f"{conversion.option} is one expression over {conversion.source} ({source_type}) "
            f"giving {conversion.target_type}, e.g. {ident(conversion.source)}::"
            f"{conversion.target_type}; the sync trigger evaluates it on one row and sees no "
            "other column")


def check_read(recipe: str, p: RecipeParams, old_type: str) -> tuple[Conversion, Conversion]:
    """The conversions of ``p``; InputError naming the option when one cannot be read."""
    assert p.type
    error = type_read_error(p.type)
    if error:
        raise InputError(f"recipe {recipe}: --type {p.type}: {error}",
                         hint="a type, e.g. bigint or numeric(12,2)")
    pair = conversions(p, old_type)
    for conversion, source_type in zip(pair, (old_type, p.type), strict=True):
        error = read_error(conversion)
        if error:
            raise InputError(f"recipe {recipe}: {conversion.what}: {error}",
                             hint=hint(conversion, source_type))
    return pair


def refusals(cur: Cursor, recipe: str, p: RecipeParams) -> list[Refusal]:
    """rename-column, change-column-type: the new column's ``--type`` is a type, and (change
    type) each conversion reads, and PostgreSQL takes it where the migrations evaluate it."""
    from pgshift.recipes.refusals import Refusal

    if not (p.table and p.column and p.new_column and p.existing):
        return []
    table, new_column, old_type = p.table, p.new_column, p.existing.type
    what = f"cannot change {table}.{p.column}"
    found = _domain_refusals(cur, old_type, p, what)
    if found or (recipe == "rename-column" and not p.type):
        return found
    new_type = (p.type or old_type) + (f" COLLATE {p.collation}" if p.collation else "")
    error, missing = _tried(type_read_error(p.type) if p.type else None, lambda: (
        probe.column_type_failure(cur, table, new_column, new_type)))
    if error:
        return [Refusal(f"--type {p.type}: {error}", "check --type: a type the database "
                        "knows, e.g. bigint or numeric(12,2)", what, lacking=missing)]
    if recipe == "change-column-type" and p.type != old_type:
        found = _domain_refusals(cur, p.type, p, what)
        if found:
            return found
    if recipe != "change-column-type":
        written = probe.written_type(cur, p.type) if p.type else None
        if written is not None and written != old_type:  # rename-column's down part and
            # sync trigger give both columns one type: --type is the column's, for when the
            # database cannot say it
            return [Refusal(f"--type {p.type}: {table}.{p.column} is {old_type}",
                            "rename-column keeps the type: leave out --type, or change the "
                            "type with recipe change-column-type", what)]
        return []
    assert p.type
    found = []
    for conversion, source_type in zip(conversions(p, old_type), (old_type, p.type),
                                       strict=True):
        error, missing = _tried(read_error(conversion), lambda c=conversion: (
            probe.conversion_failure(cur, table, (new_column, new_type), c.expression,
                                     c.source, c.target)))
        if error:
            found.append(Refusal(f"{conversion.what}: {error}", hint(conversion, source_type),
                                 what, lacking=missing))
    return found or _default_refusals(cur, p, what)


# A domain's NOT NULL and CHECKs, its base domains' included (theirs hold too), and its
# default (its own only: CREATE DOMAIN copies the base's, and a column takes no other).
_DOMAIN = """
WITH RECURSIVE d AS (
  SELECT oid, typtype, typbasetype, typnotnull, typdefault, 0 AS depth
    FROM pg_type WHERE oid = to_regtype(%s)
  UNION ALL
  SELECT t.oid, t.typtype, t.typbasetype, t.typnotnull, t.typdefault, d.depth + 1
    FROM pg_type t JOIN d ON t.oid = d.typbasetype WHERE d.typtype = 'd')
SELECT format_type((SELECT oid FROM d WHERE depth = 0), NULL), bool_or(typnotnull),
       (SELECT typdefault FROM d WHERE depth = 0),
       bool_or(EXISTS (SELECT FROM pg_constraint c WHERE c.contypid = d.oid
                       AND c.contype = 'c'))
  FROM d WHERE typtype = 'd'
"""


def _domain_refusals(cur: Cursor, column_type: str, p: RecipeParams, what: str
                     ) -> list[Refusal]:
    """A column of a domain with NOT NULL or a default cannot be carried by the sync trigger:
    step 1's ADD COLUMN gives every existing row the domain's default (the backfill, which
    fills NULLs only, then skips them, and the last step drops the old values) or fails on
    its NOT NULL; an INSERT that leaves a column out gets the domain's default before the
    trigger sees the row (so the columns part), and the marker default, NULL, fails a NOT
    NULL domain (every such INSERT would fail)."""
    from pgshift.recipes.refusals import Refusal

    cur.execute(_DOMAIN, (column_type,))
    row = cur.fetchone()
    if row is None or row[0] is None:
        return []  # not a domain
    domain, not_null, default, checked = row
    if checked and not not_null and default is None:
        return [Refusal(
            f"{column_type} is a domain with a CHECK: step 1's ADD COLUMN of it rewrites "
            f"{p.table} under ACCESS EXCLUSIVE (PostgreSQL checks the domain on every row), "
            "blocking reads and writes for as long as that takes",
            "make this change by hand where rewriting the table is acceptable, or give the "
            "new column a type without a CHECK", what)]
    if not (not_null or default is not None):
        return []
    held = [w for w, on in (("NOT NULL", not_null), (f"the default {default}",
                                                      default is not None)) if on]
    breaks = [f"ADD COLUMN gives every row of {p.new_column} the default, and the backfill "
              "fills only NULLs" if default is not None else
              "ADD COLUMN fails on a table with rows"]
    breaks.append("every INSERT leaving a column out would fail (the sync trigger's default "
                  "is a NULL)" if not_null else "an INSERT leaving a column out takes the "
                  "default before the sync trigger runs")
    drops = "; ".join(f"ALTER DOMAIN {domain} DROP {w}" for w, on in (
        ("NOT NULL", not_null), ("DEFAULT", default is not None)) if on)
    gives = [w for w, on in (("recipe set-not-null", not_null), (
        "ALTER TABLE … ALTER COLUMN … SET DEFAULT", default is not None)) if on]
    return [Refusal(f"{column_type} is a domain with {' and '.join(held)}: {'; '.join(breaks)}",
                    f"make this change by hand, or give the column what the domain holds "
                    f"first ({drops}; then {' and '.join(gives)})", what)]


def _default_refusals(cur: Cursor, p: RecipeParams, what: str) -> list[Refusal]:
    """The contract step gives the new column the old one's default through ``--using``: it
    must be a DEFAULT (no subquery, say), or that step would fail at ``up``."""
    from pgshift.recipes.refusals import Refusal
    from pgshift.recipes.sync import new_default

    assert p.table and p.column and p.type and p.existing
    if p.existing.default is None:
        return []
    to_new = conversions(p, p.existing.type)[0]
    default = new_default(p.existing.default, p.column, to_new.expression)
    error = probe.default_error(cur, p.table, p.type, default)
    if error is None:
        return []
    return [Refusal(f"{to_new.what} cannot give {p.new_column} the default of {p.column} "
                    f"({p.existing.default}): {error}",
                    "the last step gives the new column the old one's default through "
                    "--using: write --using without a subquery, or drop the default first",
                    what)]


def _tried(unread: str | None, attempt: Callable[[], probe.Failure | None]
           ) -> tuple[str | None, bool]:
    """What is wrong, if anything: what reading found (then nothing goes to the database),
    else what ``attempt`` found; and whether it is something the database lacks."""
    if unread:
        return unread, False
    failure = attempt()
    return (failure.message, failure.missing) if failure else (None, False)


__all__ = ["Conversion", "check_read", "conversions", "read_error", "refusals",
           "type_read_error"]
