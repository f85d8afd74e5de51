"""Rename a column or change its type through a new column kept in sync by a trigger.

1. expand: add the new column, and a trigger that copies writes of either column to the other
   (so the old and the new application version can run side by side);
2. expand: backfill the new column in batches;
3. (deploy the application version that uses only the new column)
4. contract: drop the trigger, its function and the old column.

A default of the old column goes to the trigger while it runs (see ``_marker``): PostgreSQL
evaluates a column's default before a BEFORE trigger sees the row, so the new application's
INSERT would take a ``nextval`` (or a ``clock_timestamp()``, a ``gen_random_uuid()``) for the
old column that nothing asked for, and a default given to both columns would be evaluated
twice, giving them two values. So both columns' defaults only flag that they were used, and
the trigger evaluates the old column's default once per row; the last step gives the new
column the real default.
"""

from __future__ import annotations

from dataclasses import dataclass, replace

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
    name_parts,
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
    new_type: str    # without a COLLATE (``new_collate``)
    to_new: str      # SQL expression of the old column's name giving the new value
    to_old: str      # SQL expression of the new column's name giving the old value
    existing: ColumnInfo | None = None  # the old column, when the database told us
    new_collate: str = ""

    @property
    def default(self) -> str | None:
        """The old column's default, when the database told it."""
        return self.existing.default if self.existing else None

    @property
    def function(self) -> str:
        return schema_prefix(self.table) + ident(
            object_name(bare(self.table), self.old, self.new, suffix="sync"))

    @property
    def trigger(self) -> str:
        """The trigger's name, which sorts before any usual one (``!``): BEFORE triggers fire
        in name order (bytes), and the markers' settings (``_marker``) must be read and cleared
        by the row that raised them, before another trigger can skip it (RETURN NULL) and
        leave them raised for the transaction's next row."""
        name = object_name(bare(self.table), self.old, self.new, suffix="sync")
        if len(name) == 63:  # no room for the '!': cut one more, as object_name cuts
            name = object_name(bare(self.table), self.old, self.new, suffix="_sync")[:-6] + (
                "_sync")
        return ident("!" + name)


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


def _sync_sql(pair: _Pair) -> list[str]:
    old, new = ident(pair.old), ident(pair.new)
    to_new = converted(pair.to_new, pair.old, f"NEW.{old}")
    to_old = converted(pair.to_old, pair.new, f"NEW.{new}")
    declared, defaulted = _defaulted_sql(pair, to_new, to_old)
    quote = _body_quote(to_new, to_old, *defaulted)
    return [
        f"CREATE OR REPLACE FUNCTION {pair.function}() RETURNS trigger LANGUAGE plpgsql AS "
        f"{quote}",
        *declared,
        "BEGIN",
        *defaulted,
        "  IF TG_OP = 'INSERT' THEN",
        f"    IF NEW.{new} IS NULL AND NEW.{old} IS NOT NULL THEN NEW.{new} := {to_new};",
        f"    ELSIF NEW.{new} IS NOT NULL AND NEW.{old} IS NULL THEN NEW.{old} := {to_old};",
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


def _setting(pair: _Pair, column: str) -> str:
    """The name of the transaction-local setting by which ``column``'s marker default tells
    the trigger it was used (each part of a custom setting's name starts with a letter)."""
    return "pgshift." + object_name("sync", *name_parts(pair.table), pair.old, pair.new,
                                    suffix="old" if column == pair.old else "new")


def _marker(pair: _Pair, column: str) -> str:
    """``column``'s default while the trigger runs: NULL of its type, raising its setting.
    Volatile (set_config), so it must never be given in an ADD COLUMN: that would rewrite
    the table."""
    setting = literal(_setting(pair, column))
    column_type = pair.old_type if column == pair.old else pair.new_type
    return f"CAST(nullif(set_config({setting}, 'on', true), 'on') AS {column_type})"


def _defaulted_sql(pair: _Pair, to_new: str, to_old: str) -> tuple[list[str], list[str]]:
    """The trigger's DECLARE, and what it does first, for an old column with a default: a
    column whose marker default was used takes the other column's value when that one was
    written, else both take the old column's default, evaluated here, once. A marker yields
    NULL, so a column written non-NULL is never taken for defaulted; a setting left raised by
    a row that another BEFORE trigger skipped cannot be, as this one fires first (``trigger``)."""
    if pair.default is None:
        return [], []
    old, new = ident(pair.old), ident(pair.new)
    settings = {c: literal(_setting(pair, c)) for c in (pair.old, pair.new)}
    return [
        "DECLARE",
        # IS NOT DISTINCT FROM: a setting never raised in the session reads NULL
        f"  old_defaulted boolean := NEW.{old} IS NULL AND "
        f"current_setting({settings[pair.old]}, true) IS NOT DISTINCT FROM 'on';",
        f"  new_defaulted boolean := NEW.{new} IS NULL AND "
        f"current_setting({settings[pair.new]}, true) IS NOT DISTINCT FROM 'on';"], [
        "  -- Each column's default only flags that it was used (the recipe's first step says",
        "  -- why): a defaulted column takes the other's value when that one was written, else",
        "  -- both take the old column's default, evaluated once.",
        "  IF old_defaulted OR new_defaulted THEN",
        f"    PERFORM set_config({settings[pair.old]}, '', true), "
        f"set_config({settings[pair.new]}, '', true);",
        f"    IF old_defaulted AND NOT new_defaulted AND (TG_OP = 'INSERT' OR "
        f"{_changed(new)}) THEN",
        f"      NEW.{old} := CASE WHEN NEW.{new} IS NOT NULL THEN {to_old} END;",
        f"    ELSIF new_defaulted AND NOT old_defaulted AND (TG_OP = 'INSERT' OR "
        f"{_changed(old)}) THEN",
        f"      NEW.{new} := CASE WHEN NEW.{old} IS NOT NULL THEN {to_new} END;",
        "    ELSE",
        f"      NEW.{old} := {pair.default};",
        f"      NEW.{new} := CASE WHEN NEW.{old} IS NOT NULL THEN {to_new} END;",
        "    END IF;",
        "    RETURN NEW;",
        "  END IF;",
    ]


def _markers(pair: _Pair, *columns: str) -> list[str]:
    """``columns`` given their marker defaults (none when the old column has no default)."""
    if pair.default is None:
        return []
    tbl = qualified(pair.table)
    return [f"ALTER TABLE {tbl} ALTER COLUMN {ident(c)} SET DEFAULT {_marker(pair, c)};"
            for c in columns]


def new_default(default: str, column: str, to_new: str) -> str:
    """The new column's default: ``to_new`` (an expression over ``column``) of ``default``,
    the old column's (a DEFAULT takes no subquery, so the default is put in place of the
    column rather than given to ``converted``)."""
    if to_new == ident(column):
        return default
    from pglast import parse_sql
    from pglast.stream import RawStream
    from pglast.visitors import Visitor

    value = parse_sql(f"SELECT ({default})")[0].stmt.targetList[0].val
    tree = parse_sql(f"SELECT ({to_new})")[0]

    class Substitute(Visitor):
        def visit_ColumnRef(self, ancestors: object, node: object) -> object:
            last = node.fields[-1]  # type: ignore[attr-defined]
            return value if getattr(last, "sval", None) == column else None

    Substitute()(tree)
    return str(RawStream()(tree.stmt.targetList[0].val))


def _give_default(pair: _Pair) -> list[str]:
    """The contract step gives the new column the real default (first: from here the trigger
    copies what the new column's default gives to the old one)."""
    if pair.default is None:
        return []
    return [f"ALTER TABLE {qualified(pair.table)} ALTER COLUMN {ident(pair.new)} SET DEFAULT "
            f"{new_default(pair.default, pair.old, pair.to_new)};"]


def _take_default(pair: _Pair) -> list[str]:
    """Step 1's down: the old column's own default back."""
    if pair.default is None:
        return []
    return [f"ALTER TABLE {qualified(pair.table)} ALTER COLUMN {ident(pair.old)} SET DEFAULT "
            f"{pair.default};"]


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
             [f"ALTER TABLE {tbl} ADD COLUMN {new} {pair.new_type}{pair.new_collate};",
              *_sync_sql(pair), *_markers(pair, pair.old, pair.new)],
             [*drop_sync, f"ALTER TABLE {tbl} DROP COLUMN IF EXISTS {new};",
              *_take_default(pair)]),
        Step(f"backfill_{bare(pair.table)}_{pair.new}",
             f"{what}, step 2: copy existing rows into {pair.new}, in batches.",
             ["-- pgshift:backfill batch-size=auto", fill_new], [], transactional=False,
             notes=_deploy_notes(pair)),
        Step(f"drop_{bare(pair.table)}_{pair.old}",
             f"{what}, last step: drop the sync trigger and {pair.table}.{pair.old}.",
             [*_give_default(pair), *_release_old(pair), *drop_sync,
              ignore("drop-column", CONTRACT_DROP),
              f"ALTER TABLE {tbl} DROP COLUMN IF EXISTS {old};"],
             [f"ALTER TABLE {tbl} ADD COLUMN IF NOT EXISTS {old} {pair.old_type}"
              f"{pair.existing.collate if pair.existing else ''};",
              # The old column's marker first, the new one's once the trigger is there to
              # evaluate the default (neither in the ADD COLUMN: a volatile default rewrites).
              *_markers(pair, pair.old), *_sync_sql(pair), *_markers(pair, pair.new),
              "-- pgshift:backfill batch-size=auto", fill_old, *_restore_old(pair)],
             phase="contract", transactional=False,
             notes=["Contract step: run it only once no running application version uses",
                    f"{pair.old}. No transaction, because its down part backfills {pair.old}."]),
    ]


def _deploy_notes(pair: _Pair) -> list[str]:
    notes = ["Then copy NOT NULL, defaults, indexes and constraints of the old column",
             "to the new one (recipes set-not-null, add-index, add-check), and deploy",
             f"the application version that reads and writes only {pair.new}."]
    if pair.default is None:
        return notes
    return [notes[0].replace(" defaults,", ""), notes[1], notes[2],
            "Not the default: the sync trigger evaluates it, once a row, for both columns,",
            f"and the last step gives it to {pair.new} (a default set by hand on {pair.new}",
            "now would be evaluated beside the trigger's: the old app's writes would be lost)."]


def _release_old(pair: _Pair) -> list[str]:
    """The contract step runs without a transaction: once the trigger is gone, the new app's
    INSERTs leave the old column NULL until it is dropped, which its NOT NULL refuses. So it
    goes first (the down part brings it back, see ``_restore_old``)."""
    if pair.existing is None or not pair.existing.not_null:
        return []
    return [ignore("drop-not-null", "the column is dropped next; the app no longer writes it"),
            f"ALTER TABLE {qualified(pair.table)} ALTER COLUMN {ident(pair.old)} DROP NOT NULL;"]


def _restore_old(pair: _Pair) -> list[str]:
    """The old column's statistics target, comment and NOT NULL back (NOT NULL without a
    locked scan; its default is the trigger's until step 1's down). The recipe is refused for
    what could not come back (refusals)."""
    info = pair.existing
    if info is None:
        return []
    tbl, old = qualified(pair.table), ident(pair.old)
    lines = restored(tbl, old, replace(info, default=None))  # the marker stands for it
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
    pair = _Pair(p.table, p.column, p.new_column, column_type, column_type,
                 ident(p.column), ident(p.new_column), p.existing, collate)
    return _steps("rename-column", pair, f"Rename {p.table}.{p.column} to {p.new_column}")


def change_column_type(p: RecipeParams) -> list[Step]:
    p.need("change-column-type", "table", "column", "type", "new_column")
    assert p.table and p.column and p.type and p.new_column
    old_type = p.existing.type if p.existing else None
    if old_type is None:
        raise InputError(f"recipe change-column-type needs the current type of "
                         f"{p.table}.{p.column}", hint="pass --url so pgshift can look it up")
    from pgshift.recipes.conversions import check_read

    collate = f" COLLATE {p.collation}" if p.collation else ""
    to_new, to_old = check_read("change-column-type", p, old_type)
    pair = _Pair(p.table, p.column, p.new_column, old_type, p.type,
                 to_new.expression, to_old.expression, p.existing, collate)
    return _steps("change-column-type", pair,
                  f"Change {p.table}.{p.column} to {p.type} as {p.new_column}")
