"""Recipes that add or remove columns: default without rewrite, ENUM column, two-step removal."""

from __future__ import annotations

import re
from dataclasses import replace

from pgshift.errors import InputError
from pgshift.recipes.constraints import set_not_null
from pgshift.recipes.model import (
    CONTRACT_DROP,
    ColumnInfo,
    RecipeParams,
    Step,
    bare,
    ident,
    ignore,
    literal,
    qualified,
)
from pgshift.recipes.sync import restored


def add_column_default(p: RecipeParams) -> list[Step]:
    """Bare column (instant), default for new rows (instant), existing rows in batches."""
    p.need("add-column-default", "table", "column", "type", "default")
    assert p.table and p.column and p.type and p.default
    if _SERIAL.search(p.type):
        raise InputError(f"recipe add-column-default: --type {p.type} fills every row from a "
                         "sequence when it is added, which rewrites the table",
                         hint="add a plain column with --default nextval('a sequence'), or "
                         "an identity column by hand (see docs/zero-downtime.md)")
    if p.not_null and _NULL.fullmatch(p.default):
        raise InputError(f"recipe add-column-default: --default {p.default} with --not-null "
                         "would leave every row NULL, and NOT NULL fails on them",
                         hint="give a --default that is a value, or drop --not-null")
    tbl, col = qualified(p.table), ident(p.column)
    steps = [Step(
        f"add_{bare(p.table)}_{p.column}",
        f"Add {p.table}.{p.column} {p.type} DEFAULT {p.default} without rewriting the table.",
        [f"ALTER TABLE {tbl} ADD COLUMN IF NOT EXISTS {col} {p.type};",
         f"ALTER TABLE {tbl} ALTER COLUMN {col} SET DEFAULT {p.default};",
         "-- pgshift:backfill batch-size=auto",
         f"UPDATE {tbl} SET {col} = {p.default} WHERE {col} IS NULL;"],
        [f"ALTER TABLE {tbl} DROP COLUMN IF EXISTS {col};"],
        transactional=False,
        notes=["ADD COLUMN with a volatile DEFAULT (clock_timestamp(), random(), ...) rewrites",
               "the table under ACCESS EXCLUSIVE. Here: the column is added bare, new rows get",
               "the default, and existing rows are filled in batches (resumable)."])]
    if p.not_null:
        steps += set_not_null(p)
    return steps


# Types that ADD COLUMN fills from a sequence; a default that is NULL, as written or cast.
_SERIAL = re.compile(r"^\s*(small|big)?serial[248]?\s*$|\b(generated|identity)\b", re.I)
_NULL = re.compile(r"\s*\(*\s*null\s*\)*\s*(::.*)?", re.I | re.S)


def add_enum(p: RecipeParams) -> list[Step]:
    p.need("add-enum", "table", "column", "type", "values")
    assert p.table and p.column and p.type
    tbl, col = qualified(p.table), ident(p.column)
    enum = qualified(p.type)
    repeated = sorted({v for v in p.values if list(p.values).count(v) > 1})
    if repeated:
        raise InputError(f"recipe add-enum: {', '.join(repeated)} given twice in --values")
    if p.default and p.default not in p.values:
        raise InputError(f"recipe add-enum: the default {p.default!r} is not one of --values")
    values = ", ".join(literal(v) for v in p.values)
    default = f" DEFAULT {literal(p.default)}" if p.default else ""
    return [Step(
        f"add_{bare(p.table)}_{p.column}_{bare(p.type)}",
        f"Create ENUM type {p.type} and add {p.table}.{p.column} using it.",
        [f"CREATE TYPE {enum} AS ENUM ({values});",
         f"ALTER TABLE {tbl} ADD COLUMN {col} {enum}{default};"],
        [f"ALTER TABLE {tbl} DROP COLUMN IF EXISTS {col};", f"DROP TYPE IF EXISTS {enum};"],
        notes=["A constant DEFAULT is stored in the catalog (PostgreSQL 11+): no rewrite.",
               "Later values: ALTER TYPE ... ADD VALUE (no rewrite; not usable in the same "
               "transaction before PostgreSQL 12)."])]


def remove_column(p: RecipeParams) -> list[Step]:
    """Stop writing it (drop NOT NULL if any), deploy code that never reads it, then drop it."""
    p.need("remove-column", "table", "column")
    assert p.table and p.column
    tbl, col = qualified(p.table), ident(p.column)
    info = p.existing
    steps = []
    # An identity column is never written by the app (nor can it drop NOT NULL): no step 1.
    if info is not None and info.not_null and not info.identity:
        steps.append(Step(
            f"stop_requiring_{bare(p.table)}_{p.column}",
            f"Let the application stop writing {p.table}.{p.column}: drop its NOT NULL.",
            [ignore("drop-not-null", "the app stops writing the column; the next step drops it"),
             f"ALTER TABLE {tbl} ALTER COLUMN {col} DROP NOT NULL;"],
            [f"ALTER TABLE {tbl} ALTER COLUMN {col} SET NOT NULL;"] if info.default else
            ["-- NOT NULL is not restored: rows written since may hold NULL, and the column",
             "-- has no default to fill them with."],
            notes=["Then deploy application code that neither reads nor writes the column."]))
    column_type = p.type or (info.type if info else None)
    steps.append(Step(
        f"drop_{bare(p.table)}_{p.column}",
        f"Drop {p.table}.{p.column} once no application version uses it.",
        [*_keep_sequence(info), ignore("drop-column", CONTRACT_DROP),
         f"ALTER TABLE {tbl} DROP COLUMN IF EXISTS {col};"],
        _add_back(tbl, col, column_type, info) if column_type else [],
        phase="contract", irreversible=column_type is None,
        notes=["Contract step: pgshift refuses it in the same run as expand steps on this",
               "table, and while pg_stat_statements shows queries that still use the column.",
               *(["The serial's sequence is kept (owned by nothing) for the down part: drop it",
                  "by hand once the column is gone for good."] if info and info.sequence
                 else [])]))
    return steps


def _keep_sequence(info: ColumnInfo | None) -> list[str]:
    """A serial's sequence goes with its column: disowned, it stays for the down part."""
    if info is None or info.sequence is None:
        return []
    return [f"ALTER SEQUENCE {info.sequence} OWNED BY NONE;"]


def _add_back(table: str, column: str, column_type: str, info: ColumnInfo | None) -> list[str]:
    """The down part of the drop: the column as it was, without its data."""
    if info is None:
        return [f"ALTER TABLE {table} ADD COLUMN IF NOT EXISTS {column} {column_type};",
                "-- The column comes back without its data."]
    if info.identity:
        return [f"ALTER TABLE {table} ADD COLUMN IF NOT EXISTS {column} {column_type}"
                f"{info.collate} {info.identity};",
                "-- The column comes back without its data (rows get new identity values).",
                *restored(table, column, replace(info, default=None))]
    default = f" DEFAULT {info.default}" if info.default else ""
    return [f"ALTER TABLE {table} ADD COLUMN IF NOT EXISTS {column} {column_type}{info.collate}"
            f"{default};",
            *([f"ALTER SEQUENCE {info.sequence} OWNED BY {table}.{column};"]
              if info.sequence else []),
            "-- The column comes back without its data" + (" (rows get the default)."
                                                           if default else "."),
            *restored(table, column, replace(info, default=None))]
