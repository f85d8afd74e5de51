"""Rename a column or change its type through a new column kept in sync by a trigger.

1. expand: add the new column, and a trigger that copies writes of either column to the other
   (so the old and the new application version can run side by side);
2. expand: backfill the new column in batches;
3. (deploy the application version that uses only the new column)
4. contract: drop the trigger, its function and the old column.
"""

from __future__ import annotations

from dataclasses import dataclass

from pgshift.errors import InputError
from pgshift.recipes.model import (
    CONTRACT_DROP,
    ColumnInfo,
    RecipeParams,
    Step,
    bare,
    ident,
    ignore,
    literal,
    object_name,
    qualified,
    schema_prefix,
)


@dataclass(frozen=True)
class _Pair:
    table: str       # as given
    old: str
    new: str
    old_type: str
    new_type: str
    to_new: str      # SQL expression of the old column's name giving the new value
    to_old: str      # SQL expression of the new column's name giving the old value
    existing: ColumnInfo | None = None  # the old column, when the database told us

    @property
    def function(self) -> str:
        return schema_prefix(self.table) + ident(
            object_name(bare(self.table), self.old, self.new, suffix="sync"))

    @property
    def trigger(self) -> str:
        return ident(object_name(bare(self.table), self.old, self.new, suffix="sync"))


def converted(expression: str, column: str, value: str) -> str:
    """``expression`` (written over ``column``) evaluated on ``value`` (``NEW.<column>`` in the
    trigger): a subquery that sees no other column."""
    return f"(SELECT {expression} FROM (SELECT {value} AS {ident(column)}) AS s)"


def filled(table: str, target: str, source: str, expression: str) -> str:
    """The backfill's UPDATE of ``table`` (quoted): ``target`` from ``expression`` over
    ``source``, where ``target`` is NULL and ``source`` is not."""
    target, source = ident(target), ident(source)
    return (f"UPDATE {table} SET {target} = {expression} "
            f"WHERE {target} IS NULL AND {source} IS NOT NULL;")


def _body_quote(*texts: str) -> str:
    """The dollar quote of the trigger function's body: ``$$``, unless an expression has it."""
    quote, n = "$$", 0
    while any(quote in text for text in texts):
        n += 1
        quote = f"$pgshift{n}$"
    return quote


def _changed(column: str) -> str:
    """Whether an UPDATE changed ``column``, for a column of any type: compared as text, since
    json, xml, point and their kind have no equality operator, and a trigger comparing them
    directly would fail every UPDATE of the table."""
    return f"NEW.{column}::text IS DISTINCT FROM OLD.{column}::text"


def _defaulted(pair: _Pair) -> str:
    """The condition under which an INSERT left the old column to its default: the new
    application's INSERT names only the new column, and the old one gets its default, not
    NULL. Only for a default that reads no volatile function (evaluated again here, a
    ``nextval`` would take a value; ``clock_timestamp()`` would never match)."""
    info = pair.existing
    if info is None or info.default is None or not _constant(info.default):
        return f"NEW.{ident(pair.old)} IS NULL"
    return (f"(NEW.{ident(pair.old)} IS NULL OR NEW.{ident(pair.old)}::text = "
            f"(CAST({info.default} AS {pair.old_type}))::text)")


def _constant(default: str) -> bool:
    """Whether the default calls no function but now() (the same in a whole transaction)."""
    from pglast import ast, parse_sql
    from pglast.visitors import Visitor

    calls: list[str] = []

    class Calls(Visitor):
        def visit_FuncCall(self, ancestors: object, node: ast.FuncCall) -> None:
            calls.append(".".join(str(part.sval) for part in node.funcname))

    Calls()(parse_sql(f"SELECT {default}")[0])
    return set(calls) <= {"now", "pg_catalog.now"}


def _sync_sql(pair: _Pair) -> list[str]:
    old, new = ident(pair.old), ident(pair.new)
    to_new = converted(pair.to_new, pair.old, f"NEW.{old}")
    to_old = converted(pair.to_old, pair.new, f"NEW.{new}")
    defaulted = _defaulted(pair)
    quote = _body_quote(to_new, to_old, defaulted)
    return [
        f"CREATE OR REPLACE FUNCTION {pair.function}() RETURNS trigger LANGUAGE plpgsql AS "
        f"{quote}",
        "BEGIN",
        "  IF TG_OP = 'INSERT' THEN",
        f"    IF NEW.{new} IS NULL AND NEW.{old} IS NOT NULL THEN NEW.{new} := {to_new};",
        f"    ELSIF NEW.{new} IS NOT NULL AND {defaulted} THEN NEW.{old} := {to_old};",
        "    END IF;",
        "  -- A write to one column is copied to the other. Filling a column that was NULL",
        "  -- while the other was set is a backfill: the other column is left as it is.",
        f"  ELSIF {_changed(new)} AND (OLD.{new} IS NOT NULL OR "
        f"OLD.{old} IS NULL) THEN",
        f"    NEW.{old} := {to_old};",
        f"  ELSIF {_changed(old)} AND (OLD.{old} IS NOT NULL OR "
        f"OLD.{new} IS NULL) THEN",
        f"    NEW.{new} := {to_new};",
        "  END IF;",
        "  RETURN NEW;",
        "END",
        f"{quote};",
        f"CREATE TRIGGER {pair.trigger} BEFORE INSERT OR UPDATE ON {qualified(pair.table)}",
        f"  FOR EACH ROW EXECUTE FUNCTION {pair.function}();",
    ]


def _steps(recipe: str, pair: _Pair, what: str) -> list[Step]:
    tbl, old, new = qualified(pair.table), ident(pair.old), ident(pair.new)
    drop_sync = [f"DROP TRIGGER IF EXISTS {pair.trigger} ON {tbl};",
                 f"DROP FUNCTION IF EXISTS {pair.function}();"]
    fill_new = filled(tbl, pair.new, pair.old, pair.to_new)
    fill_old = filled(tbl, pair.old, pair.new, pair.to_old)
    return [
        Step(f"add_{bare(pair.table)}_{pair.new}_synced",
             f"{what}, step 1: add {pair.table}.{pair.new} and keep it in sync with "
             f"{pair.old} while both application versions run.",
             [f"ALTER TABLE {tbl} ADD COLUMN {new} {pair.new_type};", *_sync_sql(pair)],
             [*drop_sync, f"ALTER TABLE {tbl} DROP COLUMN IF EXISTS {new};"]),
        Step(f"backfill_{bare(pair.table)}_{pair.new}",
             f"{what}, step 2: copy existing rows into {pair.new}, in batches.",
             ["-- pgshift:backfill batch-size=auto", fill_new], [], transactional=False,
             notes=["Then copy NOT NULL, defaults, indexes and constraints of the old column",
                    "to the new one (recipes set-not-null, add-index, add-check), and deploy",
                    f"the application version that reads and writes only {pair.new}."]),
        Step(f"drop_{bare(pair.table)}_{pair.old}",
             f"{what}, last step: drop the sync trigger and {pair.table}.{pair.old}.",
             [*_release_old(pair), *drop_sync, ignore("drop-column", CONTRACT_DROP),
              f"ALTER TABLE {tbl} DROP COLUMN IF EXISTS {old};"],
             [f"ALTER TABLE {tbl} ADD COLUMN IF NOT EXISTS {old} {pair.old_type}"
              f"{pair.existing.collate if pair.existing else ''};",
              *_sync_sql(pair), "-- pgshift:backfill batch-size=auto", fill_old,
              *_restore_old(pair)],
             phase="contract", transactional=False,
             notes=["Contract step: run it only once no running application version uses",
                    f"{pair.old}. No transaction, because its down part backfills {pair.old}."]),
    ]


def _release_old(pair: _Pair) -> list[str]:
    """The contract step runs without a transaction: once the trigger is gone, the new app's
    INSERTs leave the old column NULL until it is dropped, which its NOT NULL refuses. So it
    goes first (the down part brings it back, see ``_restore_old``)."""
    if pair.existing is None or not pair.existing.not_null:
        return []
    return [ignore("drop-not-null", "the column is dropped next; the app no longer writes it"),
            f"ALTER TABLE {qualified(pair.table)} ALTER COLUMN {ident(pair.old)} DROP NOT NULL;"]


def _restore_old(pair: _Pair) -> list[str]:
    """The old column's default, statistics target, comment and NOT NULL back (NOT NULL
    without a locked scan). The recipe is refused for what could not come back (refusals)."""
    info = pair.existing
    if info is None:
        return []
    tbl, old = qualified(pair.table), ident(pair.old)
    lines = restored(tbl, old, info)
    if info.not_null:
        check = ident(object_name(bare(pair.table), pair.old, suffix="not_null_check"))
        lines += [f"ALTER TABLE {tbl} ADD CONSTRAINT {check} CHECK ({old} IS NOT NULL) NOT VALID;",
                  f"ALTER TABLE {tbl} VALIDATE CONSTRAINT {check};",
                  f"ALTER TABLE {tbl} ALTER COLUMN {old} SET NOT NULL;",
                  f"ALTER TABLE {tbl} DROP CONSTRAINT {check};"]
    return lines


def restored(table: str, column: str, info: ColumnInfo) -> list[str]:
    """What ADD COLUMN does not bring back of the column ``info`` tells: its default,
    statistics target and comment (``table`` and ``column`` quoted)."""
    lines = [f"ALTER TABLE {table} ALTER COLUMN {column} SET DEFAULT {info.default};"] \
        if info.default else []
    if info.statistics is not None:
        lines.append(f"ALTER TABLE {table} ALTER COLUMN {column} SET STATISTICS "
                     f"{info.statistics};")
    if info.comment is not None:
        lines.append(f"COMMENT ON COLUMN {table}.{column} IS {literal(info.comment)};")
    return lines


def rename_column(p: RecipeParams) -> list[Step]:
    p.need("rename-column", "table", "column", "new_column")
    assert p.table and p.column and p.new_column
    if p.new_column == p.column:
        raise InputError(f"recipe rename-column: {p.column} is its name already")
    column_type = p.type or (p.existing.type if p.existing else None)
    if column_type is None:
        raise InputError(f"recipe rename-column needs the type of {p.table}.{p.column}",
                         hint="pass --type, or --url so pgshift can look it up")
    collate = p.existing.collate if p.existing and not p.type else ""
    pair = _Pair(p.table, p.column, p.new_column, column_type, column_type + collate,
                 ident(p.column), ident(p.new_column), p.existing)
    return _steps("rename-column", pair, f"Rename {p.table}.{p.column} to {p.new_column}")


def change_column_type(p: RecipeParams) -> list[Step]:
    p.need("change-column-type", "table", "column", "type", "new_column")
    assert p.table and p.column and p.type and p.new_column
    old_type = p.existing.type if p.existing else None
    if old_type is None:
        raise InputError(f"recipe change-column-type needs the current type of "
                         f"{p.table}.{p.column}", hint="pass --url so pgshift can look it up")
    from pgshift.recipes.conversions import check_read

    new_type = p.type + (f" COLLATE {p.collation}" if p.collation else "")
    to_new, to_old = check_read("change-column-type", p, old_type)
    pair = _Pair(p.table, p.column, p.new_column, old_type, new_type,
                 to_new.expression, to_old.expression, p.existing)
    return _steps("change-column-type", pair,
                  f"Change {p.table}.{p.column} to {p.type} as {p.new_column}")
