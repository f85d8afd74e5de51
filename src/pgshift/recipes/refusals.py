"""What ``create --recipe`` asks the database before it writes anything.

A recipe's migrations run at ``up`` time, perhaps days later. An input they would fail on there
(a type that exists already, a table that is not partitioned, a column a view uses), or that
their down part could not undo, is refused now, naming the table or column, and nothing is
written. Some answers shape what is written instead: the existing column (down parts, sync
triggers) and a partitioned table's partitions (add-index builds on each).

What the database has counts whenever it can be reached. What it lacks (a table, a column, a
partitioned table) counts only when every migration is applied: a pending one may make it.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, replace
from typing import TYPE_CHECKING

from pgshift.errors import InputError
from pgshift.recipes import conversions, expressions, lookup, probe
from pgshift.recipes.model import RecipeParams, referenced

if TYPE_CHECKING:
    from psycopg2.extensions import cursor as Cursor

    from pgshift.config import Settings


@dataclass(frozen=True)
class Refusal:
    """Why a recipe is not written: the reason names the table or column; the hint the way."""

    reason: str
    hint: str
    what: str = ""  # what the recipe cannot do, e.g. 'cannot change users.email'
    lacking: bool = False  # about what the database lacks: counts only with nothing pending


_TAKES_A_TABLE = ("create it first, or check the name: it is taken as written (Users is not "
                  "users) or, in double quotes, as SQL reads it")


def ask_database(settings: Settings, recipe: str, params: RecipeParams, *,
                 up_to_date: Callable[[], bool]) -> RecipeParams:
    """``params`` with what the database says filled in; InputError, before anything is
    written, for an input the recipe's migrations would fail on. ``up_to_date`` says whether
    every migration is applied. Without a database, ``params`` as they are."""
    answer = lookup.ask(settings, lambda cur: _answer(cur, recipe, params))
    if answer is None:
        return params
    params, refusals = answer
    if any(r.lacking for r in refusals) and not up_to_date():
        refusals = [r for r in refusals if not r.lacking]
    if not refusals:
        return params
    first = refusals[0]
    reasons = "; ".join(r.reason for r in refusals if r.what == first.what)
    raise InputError(f"recipe {recipe}{' ' + first.what if first.what else ''}: {reasons}",
                     hint=f"nothing was written: {first.hint}")


def _answer(cur: Cursor, recipe: str, p: RecipeParams) -> tuple[RecipeParams, list[Refusal]]:
    if not p.table:
        return p, []  # the recipe names what it needs
    table = lookup.relation(cur, p.table)
    if table is None:
        return p, [Refusal(f"table {p.table} does not exist", _TAKES_A_TABLE, lacking=True)]
    if table.kind not in ("r", "p"):
        return p, [Refusal(f"{p.table} is {table.what}, not a table",
                           "recipes change tables: check --table")]
    from pgshift.recipes import NEEDS_EXISTING

    if recipe in NEEDS_EXISTING and p.column and p.existing is None:
        p = replace(p, existing=lookup.column_info(cur, p.table, p.column))
    if recipe == "change-column-type" and p.existing and p.existing.collation and p.type \
            and probe.collatable(cur, p.type):
        p = replace(p, collation=p.existing.collation)  # the new column sorts as the old
    if recipe == "add-index" and table.kind == "p":
        p = replace(p, partitions=lookup.partitions(cur, p.table))
    check = _CHECKS.get(recipe)
    found = check(cur, recipe, p) if check else []
    if recipe in _BACKFILLS and table.kind == "p" and not lookup.has_walk_key(cur, p.table):
        found.append(Refusal(
            f"partitioned table {p.table} has no primary key for the backfill to walk",
            "add one first (a partitioned table has no ctid ranges to walk), or do the change "
            "by hand, partition by partition", lacking=True))
    return p, found


# The recipes whose migrations backfill the table.
_BACKFILLS = frozenset({"add-column-default", "rename-column", "change-column-type"})


def _column_recipe(cur: Cursor, recipe: str, p: RecipeParams) -> list[Refusal]:
    """set-not-null, rename-column, change-column-type, remove-column: the column is there,
    and nothing stops or is lost with what they do to it."""
    if not p.column:
        return []
    assert p.table
    what = f"cannot change {p.table}.{p.column}"
    state = lookup.column_state(cur, p.table, p.column)
    if state is None:
        return [_no_column(p.table, p.column, what)]
    if recipe == "set-not-null":
        return [Refusal(f"{p.column} is NOT NULL already", "it needs no set-not-null", what)
                ] if state.not_null else []
    half_way = "a step would fail half-way (drop or change what uses the column first)"
    found = [Refusal(f"{p.column} is a generated column", half_way, what)] \
        if state.generated else []
    found += [Refusal(f"{user} uses {p.column}", half_way, what) for user in state.users]
    keys = [t for t in state.taken if t.startswith("primary key ")]
    found += [Refusal(f"{p.column} is in the {key}", "a primary key column cannot be dropped "
                      "this way and brought back by a down part: give the table another "
                      "primary key first", what) for key in keys]
    found += _kept_by_the_table(p.column, state, what)
    by_hand = ("its last step's DROP COLUMN would drop it too, and no down part could bring it "
               "back as it was: make this change by hand" + (
                   " (ALTER TABLE … RENAME COLUMN keeps it)" if recipe == "rename-column"
                   else ""))
    lost = by_hand if recipe != "remove-column" else (
        "DROP COLUMN would drop it too and the down part could not bring it back: drop it "
        "first, in a migration of its own (DROP INDEX CONCURRENTLY; ALTER TABLE … DROP "
        "CONSTRAINT)")
    found += [Refusal(f"{taken} uses {p.column}", lost, what)
              for taken in state.taken if taken not in keys]
    if recipe == "remove-column":
        return found  # its down part brings an identity or a serial's sequence back
    if state.identity:
        found.append(Refusal(f"{p.column} is an identity column", by_hand, what))
    elif state.sequence:
        found.append(Refusal(f"{p.column} owns the sequence {state.sequence} (serial), which "
                             "DROP COLUMN drops", by_hand, what))
    if p.new_column and lookup.column_state(cur, p.table, p.new_column):
        found.append(Refusal(f"{p.table} has a column {p.new_column} already",
                             "choose another --new-column", what))
    return found


def _kept_by_the_table(column: str, state: lookup.ColumnState, what: str) -> list[Refusal]:
    """What DROP COLUMN refuses, or takes along where no down part could bring it back."""
    found = [Refusal(f"{column} is in the partition key of {table}", "PostgreSQL cannot drop "
                     "a partition key column: a new partitioned table is a change by hand",
                     what) for table in state.partition_keys]
    if state.inherited:
        found.append(Refusal(f"{column} is inherited from the table's parent",
                             "change the column on the partitioned (or parent) table", what))
    if state.grants:
        found.append(Refusal(f"{column} has column privileges (GRANT … ({column}))",
                             "DROP COLUMN takes them along and the down part could not bring "
                             "them back as they were: REVOKE them first", what))
    return found


def _no_column(table: str, column: str, what: str = "") -> Refusal:
    return Refusal(f"{table} has no column {column}", "check --column: a name is taken as "
                   "written (Email is not email)", what, lacking=True)


def _new_column(cur: Cursor, recipe: str, p: RecipeParams) -> list[Refusal]:
    """add-column-default, add-enum: the column is not there yet (its down part would drop
    it); add-enum: nor is the type."""
    assert p.table
    found = []
    if p.column and lookup.column_info(cur, p.table, p.column) is not None:
        way = ("its down part would drop it: choose another --column, or ALTER TABLE … ALTER "
               "COLUMN … SET DEFAULT (and recipe set-not-null)" if recipe == "add-column-default"
               else "choose another --column")
        found.append(Refusal(f"{p.table} has a column {p.column} already", way))
    if recipe == "add-enum" and p.type:
        existing = lookup.type_named(cur, p.type)
        if existing is not None:
            found.append(Refusal(
                f"type {existing} exists already", "choose another --type (the column's type "
                f"{p.type} would mean {existing}); to use the existing one, ALTER TABLE … ADD "
                f"COLUMN … {existing} (ALTER TYPE … ADD VALUE adds an enum's values)"))
    if recipe == "add-column-default" and p.type and p.default:
        error = probe.default_error(cur, p.table, p.type, p.default)
        if error:
            found.append(Refusal(f"--default {p.default} for a column of type {p.type}: "
                                 f"{error}", "a DEFAULT is a value of the column's type that "
                                 "uses no column: check --default and --type", lacking=True))
    if recipe == "add-column-default" and p.not_null and p.column:
        found += _constraint(cur, "set-not-null", p)
    return found


def _add_index(cur: Cursor, recipe: str, p: RecipeParams) -> list[Refusal]:
    """The index's names are free (with IF NOT EXISTS, an index of the name would be taken
    for the new one, and the down part would drop it); no partition is a foreign table."""
    from pgshift.recipes.constraints import index_name, partition_index_names

    if not p.columns:
        return []
    assert p.table
    found = []
    names = [(p.table, index_name(p))] + [
        (part.table, name) for part, name in partition_index_names(p) if part.kind != "f"]
    for table, name in names:
        taken = lookup.relation_named(cur, table, name)
        if taken is not None:
            found.append(Refusal(f"the name {name} is taken by {taken}",
                                 "choose another --name (for an index that exists, there is "
                                 "nothing to add)"))
    found += [Refusal(f"partition {part.schema}.{part.name} of {p.table} is a foreign table",
                      "no index can be built on it: create the index on the other partitions "
                      "by hand") for part, _ in partition_index_names(p) if part.kind == "f"]
    error = probe.index_error(cur, p.table, p.columns)
    if error:
        found.append(Refusal(f"no index on {p.table} ({p.columns}): {error}",
                             "check --columns: the table's columns or expressions over them, "
                             "each with an operator class its type has", lacking=True))
    elif p.unique and p.partitions is not None:
        found += _unique_keys(cur, p.table, p.columns)
    return found


def _unique_keys(cur: Cursor, table: str, columns: str) -> list[Refusal]:
    """A unique index on a partitioned table must have the partition key's columns, at every
    level: without, it fails half-way through the partitions."""
    import pglast

    try:
        [raw] = pglast.parse_sql(f"CREATE INDEX i ON t ({columns})")
    except pglast.parser.ParseError:
        return []  # the recipe's own check says what is wrong
    plain = {e.name for e in raw.stmt.indexParams if e.name}
    found = []
    for level, key in lookup.partition_keys(cur, table):
        missing = ["an expression"] if key is None else [k for k in key if k not in plain]
        if missing:
            found.append(Refusal(
                f"a unique index on {table} lacks the partition key of {level}: "
                f"{', '.join(missing)}",
                "PostgreSQL needs the partition key's columns in it, at every level; or drop "
                "--unique"))
    return found


def _constraint(cur: Cursor, recipe: str, p: RecipeParams) -> list[Refusal]:
    """add-check, set-not-null: the constraint's name is free."""
    from pgshift.recipes.constraints import constraint_name

    table = p.partition if recipe == "attach-partition" else p.table
    if not (table and (p.check if recipe in ("add-check", "attach-partition") else p.column)):
        return []
    name = constraint_name(recipe, p)
    if not lookup.has_constraint(cur, table, name):
        return []
    way = ("drop it first: it is left from an earlier run" if recipe == "set-not-null" else
           "choose another --name")
    return [Refusal(f"{table} has a constraint {name} already", way)]


def _foreign_key(cur: Cursor, recipe: str, p: RecipeParams) -> list[Refusal]:
    """add-foreign-key: the column, the referenced table and a key to reference are there."""
    if not (p.column and p.references):
        return []
    assert p.table
    found = [] if lookup.column_info(cur, p.table, p.column) else [_no_column(p.table, p.column)]
    table = lookup.relation(cur, p.table)
    if table is not None and table.kind == "p" and cur.connection.server_version < 180000:
        found.append(Refusal(
            f"{p.table} is a partitioned table, and PostgreSQL before 18 adds no NOT VALID "
            "foreign key to one", "add it by hand (a plain ADD FOREIGN KEY scans every "
            "partition while writes wait), or to each partition with this recipe"))
    target, columns, _ = referenced(p.references)
    kind = lookup.relation(cur, target)
    if kind is None:
        found.append(Refusal(f"the referenced table {target} does not exist", _TAKES_A_TABLE,
                             lacking=True))
    elif not lookup.unique_key(cur, target, columns):
        key = f"unique index on ({', '.join(columns)})" if columns else "primary key"
        found.append(Refusal(f"{target} has no {key}", "a foreign key references a primary key "
                             "or unique columns: add one first (recipe add-index --unique)",
                             lacking=True))
    return found + _constraint(cur, recipe, p)


def _partitions(cur: Cursor, recipe: str, p: RecipeParams) -> list[Refusal]:
    """attach-partition, add-partition: the table is partitioned; the partition is a table not
    attached yet (attach-partition), a name not taken yet (add-partition)."""
    assert p.table
    found = []
    table = lookup.relation(cur, p.table)
    if table is not None and table.kind != "p":
        found.append(Refusal(f"{p.table} is not a partitioned table",
                             "make it one first (recipe partition-table)", lacking=True))
    if not p.partition:
        return found
    part = lookup.relation(cur, p.partition)
    if recipe == "add-partition":
        if part is not None:
            found.append(Refusal(f"{p.partition} exists already ({part.what})",
                                 "choose another --partition; to attach an existing table, "
                                 "recipe attach-partition"))
        if p.like and lookup.relation(cur, p.like) is None:
            found.append(Refusal(f"table {p.like} (--like) does not exist", _TAKES_A_TABLE,
                                 lacking=True))
        return found
    if part is None:
        found.append(Refusal(f"table {p.partition} does not exist", _TAKES_A_TABLE,
                             lacking=True))
    elif part.kind == "p" and lookup.is_ancestor(cur, p.partition, p.table):
        found.append(Refusal(f"{p.partition} is {p.table}, or a table {p.table} is a "
                             "partition of",
                             "check --partition: a table cannot be its own partition"))
    elif part.is_partition:
        found.append(Refusal(f"{p.partition} is a partition already",
                             "DETACH PARTITION it first"))
    elif part.kind not in ("r", "p"):
        found.append(Refusal(f"{p.partition} is {part.what}, not a table", "check --partition"))
    return found + (_constraint(cur, recipe, p) if part is not None else [])


def _partition_table(cur: Cursor, recipe: str, p: RecipeParams) -> list[Refusal]:
    assert p.table
    return [Refusal(reason, "see the partition-table recipe in docs/zero-downtime.md",
                    f"cannot swap {p.table}") for reason in lookup.swap_refusals(cur, p.table)]


def _remove_table(cur: Cursor, recipe: str, p: RecipeParams) -> list[Refusal]:
    """remove-table: the retired name is free, and nothing stops the last step's DROP TABLE."""
    from pgshift.recipes.tables import retired_table_name

    assert p.table
    what = f"cannot drop {p.table}"
    retired = retired_table_name(p)
    taken = lookup.relation_named(cur, p.table, retired)
    found = [Refusal(f"the retired name {retired} is taken by {taken}",
                     "choose another --name", what)] if taken else []
    return found + [Refusal(f"{user} uses it", "its last step's DROP TABLE would fail: drop or "
                            "change them first (a foreign key: ALTER TABLE … DROP CONSTRAINT)",
                            what) for user in lookup.table_users(cur, p.table)]


_CHECKS: dict[str, Callable[[Cursor, str, RecipeParams], list[Refusal]]] = {
    "add-column-default": _new_column,
    "add-enum": _new_column,
    "add-index": _add_index,
    "add-check": lambda cur, recipe, p: _constraint(cur, recipe, p) + expressions.checks(
        cur, recipe, p),
    "add-foreign-key": _foreign_key,
    "set-not-null": lambda cur, recipe, p: _column_recipe(cur, recipe, p) or _constraint(
        cur, recipe, p),
    "rename-column": lambda cur, recipe, p: _column_recipe(cur, recipe, p) or (
        conversions.refusals(cur, recipe, p)),
    "change-column-type": lambda cur, recipe, p: _column_recipe(cur, recipe, p) or (
        conversions.refusals(cur, recipe, p)),
    "remove-column": _column_recipe,
    "attach-partition": lambda cur, recipe, p: _partitions(cur, recipe, p) + (
        expressions.checks(cur, recipe, p) + expressions.bounds(cur, recipe, p)),
    "add-partition": lambda cur, recipe, p: _partitions(cur, recipe, p) + expressions.bounds(
        cur, recipe, p),
    "partition-table": lambda cur, recipe, p: _partition_table(cur, recipe, p) or (
        expressions.bounds(cur, recipe, p)),
    "remove-table": _remove_table,
}

__all__ = ["Refusal", "ask_database"]
