"""Recipes: ``pgshift create --recipe NAME`` writes the expand/contract migrations for a change.

Each recipe turns a few parameters into a sequence of migration files with working down parts
and ``-- pgshift:phase`` directives. Recipes and their parameters:

=================== ================================================= =========================
recipe              what it writes                                    parameters
=================== ================================================= =========================
add-column-default  bare ADD COLUMN, SET DEFAULT, batched backfill     table column type default
                    (+ the set-not-null steps with --not-null)        [not-null]
add-index           CREATE INDEX CONCURRENTLY (no-transaction); on a   table columns [unique]
                    partitioned table ON ONLY it, CONCURRENTLY on     [constraint = index name]
                    each partition, ATTACH PARTITION
add-check           ADD CONSTRAINT CHECK NOT VALID; VALIDATE          table check [constraint]
add-foreign-key     ADD FOREIGN KEY NOT VALID; VALIDATE               table column references
set-not-null        CHECK NOT VALID; VALIDATE; SET NOT NULL + drop    table column
add-enum            CREATE TYPE AS ENUM; ADD COLUMN                   table column type values
                                                                      [default]
rename-column       new column + sync trigger; backfill; drop old     table column new-column
change-column-type  the same, converting (``--using``)                table column type
                                                                      new-column [using]
                                                                      [reverse-using]
remove-column       drop NOT NULL (if any); drop the column           table column
attach-partition    CHECK NOT VALID; VALIDATE; ATTACH (no scan) and   table partition bounds
                    drop the CHECK                                    check [constraint]
partition-table     a partitioned twin; CHECK below the cutoff NOT    table column cutoff until
                    VALID; VALIDATE; swap: the table becomes the      [partition]
                    twin's partition (no copy, no scan)
add-partition       CREATE TABLE (LIKE); ATTACH: no ACCESS EXCLUSIVE  table partition bounds
                    on the partitioned table                          [like]
remove-table        rename it away for a release (data kept); then    table [name = the
                    drop it (irreversible)                            retired name]
=================== ================================================= =========================

With a database to ask, ``recipes.refusals`` refuses, before anything is written, what the
migrations would fail on at ``up`` time, and looks up what they need (the existing column, a
partitioned table's partitions). The SQL a recipe is given to write inline is read (pglast) and
tried on an empty temporary copy of the table (``recipes.probe``): change-column-type's
conversions in ``recipes.conversions``, the others in ``recipes.expressions``.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from pgshift.errors import InputError
from pgshift.recipes.add_partition import add_partition
from pgshift.recipes.columns import add_column_default, add_enum, remove_column
from pgshift.recipes.constraints import (
    add_check,
    add_foreign_key,
    add_index,
    attach_partition,
    set_not_null,
)
from pgshift.recipes.model import ColumnInfo, RecipeFile, RecipeParams, Step
from pgshift.recipes.partition_table import partition_table
from pgshift.recipes.sync import change_column_type, rename_column
from pgshift.recipes.tables import remove_table

RECIPES: dict[str, Callable[[RecipeParams], list[Step]]] = {
    "add-column-default": add_column_default,
    "add-index": add_index,
    "add-check": add_check,
    "add-foreign-key": add_foreign_key,
    "set-not-null": set_not_null,
    "add-enum": add_enum,
    "rename-column": rename_column,
    "change-column-type": change_column_type,
    "remove-column": remove_column,
    "attach-partition": attach_partition,
    "partition-table": partition_table,
    "add-partition": add_partition,
    "remove-table": remove_table,
}

# Recipes whose down parts or triggers need the existing column's type (looked up when they can).
NEEDS_EXISTING = frozenset({"rename-column", "change-column-type", "remove-column"})


def render_recipe(name: str, params: RecipeParams) -> list[RecipeFile]:
    """The files recipe ``name`` writes for ``params``; InputError for an unknown recipe."""
    build = RECIPES.get(name)
    if build is None:
        raise InputError(f"unknown recipe '{name}'", hint="known: " + ", ".join(RECIPES))
    steps = build(params)
    files = [step.render(name, i, len(steps)) for i, step in enumerate(steps, start=1)]
    _check_sql(files)
    return files


def _check_sql(files: list[RecipeFile]) -> None:
    """Every file must parse: a bad --type or --check fails here, not at 'up' time."""
    from pgshift.migrations.parse import parse_text
    from pgshift.migrations.statements import split_statements

    for file in files:
        path = Path(f"{file.words}.sql")
        parsed = parse_text(file.text, path)
        for part in (parsed.up_sql, parsed.down_sql or ""):
            split_statements(part, path)


def write_recipe(directory: Path, name: str, params: RecipeParams) -> list[Path]:
    """Write the recipe's files as the next versions in ``directory``; return their paths."""
    from pgshift.migrations.discover import discover_migrations

    files = render_recipe(name, params)
    try:
        directory.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise InputError(f"cannot write the migrations: {exc.strerror}", path=directory) from None
    existing = [m for m in discover_migrations(directory) if m.version is not None]
    width, first = 3, 1
    if existing:
        last = existing[-1].version
        assert last is not None
        width = len(last.text.replace("_", ".").split(".")[0])
        first = last.key[0] + 1
    paths: list[Path] = []
    try:
        for offset, file in enumerate(files):
            path = directory / f"V{str(first + offset).zfill(width)}__{file.words}.sql"
            path.write_text(file.text, encoding="utf-8")
            paths.append(path)
    except OSError as exc:
        for written in paths:  # all of the sequence or none of it
            written.unlink(missing_ok=True)
        raise InputError(f"cannot write the migrations: {exc.strerror}",
                         path=exc.filename or directory) from None
    return paths


__all__ = ["NEEDS_EXISTING", "RECIPES", "ColumnInfo", "RecipeParams", "render_recipe",
           "write_recipe"]
