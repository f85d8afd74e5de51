"""Recipes for indexes and constraints: CONCURRENTLY, and NOT VALID then VALIDATE (also what
lets ATTACH PARTITION skip its scan)."""

from __future__ import annotations

from pgshift.errors import InputError
from pgshift.recipes.model import (
    RecipeParams,
    Step,
    bare,
    ident,
    object_name,
    qualified,
    schema_prefix,
)


def add_index(p: RecipeParams) -> list[Step]:
    """CREATE INDEX CONCURRENTLY: no lock that blocks writes, in a no-transaction migration."""
    p.need("add-index", "table", "columns")
    assert p.table and p.columns
    name = p.constraint or object_name(bare(p.table), p.columns, suffix="idx")
    unique = "UNIQUE " if p.unique else ""
    return [Step(
        f"add_index_{name}", f"Build index {name} on {p.table} ({p.columns}) without blocking "
        "writes.",
        [f"CREATE {unique}INDEX CONCURRENTLY IF NOT EXISTS {ident(name)} ON "
         f"{qualified(p.table)} ({p.columns});"],
        [f"DROP INDEX CONCURRENTLY IF EXISTS {schema_prefix(p.table)}{ident(name)};"],
        transactional=False,
        notes=["A plain CREATE INDEX blocks every write to the table until it finishes.",
               "An interrupted build leaves an INVALID index: pgshift drops and rebuilds it."])]


def validated(table: str, name: str, add_sql: str, what: str) -> list[Step]:
    """ADD CONSTRAINT … NOT VALID (new rows checked, no scan), then VALIDATE (a scan that lets
    reads and writes go on): two migrations."""
    tbl = qualified(table)
    add = f"ALTER TABLE {tbl} ADD CONSTRAINT {ident(name)} {add_sql} NOT VALID;"
    drop = f"ALTER TABLE {tbl} DROP CONSTRAINT IF EXISTS {ident(name)};"
    return [
        Step(f"add_{name}_not_valid", f"Add {what} {name} to {table} as NOT VALID: new rows are "
             "checked, existing rows are not scanned (a short lock only).",
             [add], [drop],
             notes=["Deploy application code that satisfies it before this runs."]),
        Step(f"validate_{name}", f"Validate {name}: scans {table} under SHARE UPDATE EXCLUSIVE, "
             "which lets reads and writes go on.",
             [f"ALTER TABLE {tbl} VALIDATE CONSTRAINT {ident(name)};"], [drop, add],
             notes=["PostgreSQL cannot mark a constraint NOT VALID again: the down part drops "
                    "it and adds it back NOT VALID, which reads no rows."]),
    ]


def add_check(p: RecipeParams) -> list[Step]:
    p.need("add-check", "table", "check")
    assert p.table and p.check
    name = p.constraint or object_name(bare(p.table), p.check, suffix="check")
    return validated(p.table, name, f"CHECK ({p.check})", "check constraint")


def add_foreign_key(p: RecipeParams) -> list[Step]:
    p.need("add-foreign-key", "table", "column", "references")
    assert p.table and p.column and p.references
    name = p.constraint or object_name(bare(p.table), p.column, suffix="fkey")
    target, _, rest = p.references.partition("(")
    columns = f" ({rest}" if rest else ""
    sql = (f"FOREIGN KEY ({ident(p.column)}) REFERENCES {qualified(target.strip())}"
           f"{columns}")
    steps = validated(p.table, name, sql, "foreign key")
    steps[0].notes.append(f"Index {p.table}.{p.column} too (recipe add-index), or deletes on "
                          f"{target.strip()} scan {p.table}.")
    return steps


def set_not_null(p: RecipeParams) -> list[Step]:
    """CHECK (col IS NOT NULL) NOT VALID -> VALIDATE -> SET NOT NULL (no scan) -> drop CHECK."""
    p.need("set-not-null", "table", "column")
    assert p.table and p.column
    tbl, col = qualified(p.table), ident(p.column)
    # Not "<table>_<col>_not_null": PostgreSQL 18 gives that name to the NOT NULL constraint.
    name = object_name(bare(p.table), p.column, suffix="not_null_check")
    steps = validated(p.table, name, f"CHECK ({col} IS NOT NULL)",
                       "check constraint")
    steps.append(Step(
        f"set_{bare(p.table)}_{p.column}_not_null",
        f"SET NOT NULL on {p.table}.{p.column}: the validated CHECK spares the table scan "
        "(PostgreSQL 12+); then the CHECK goes.",
        [f"ALTER TABLE {tbl} ALTER COLUMN {col} SET NOT NULL;",
         f"ALTER TABLE {tbl} DROP CONSTRAINT IF EXISTS {ident(name)};"],
        [f"ALTER TABLE {tbl} ADD CONSTRAINT {ident(name)} CHECK ({col} IS NOT NULL) NOT VALID;",
         f"ALTER TABLE {tbl} VALIDATE CONSTRAINT {ident(name)};",
         f"ALTER TABLE {tbl} ALTER COLUMN {col} DROP NOT NULL;"],
        transactional=False,
        notes=["No transaction: in the down part the CHECK is validated in its own "
               "transaction, not under the ADD's lock."]))
    return steps


def attach_partition(p: RecipeParams) -> list[Step]:
    """A validated CHECK matching the bounds, then ATTACH PARTITION: PostgreSQL sees that the
    CHECK implies the partition constraint and skips the scan it would make under ACCESS
    EXCLUSIVE on the table. The CHECK goes once the partition constraint holds instead."""
    if not (p.table and p.partition and p.bounds and p.check):
        p.need("attach-partition", "table", "partition", "bounds", "check")
    assert p.table and p.partition and p.bounds and p.check
    bounds = p.bounds.strip()
    if bounds.upper().startswith("FOR VALUES"):
        bounds = bounds[len("FOR VALUES"):].strip()
    if bounds.upper() == "DEFAULT":
        raise InputError(
            "recipe attach-partition attaches a partition with bounds, not a DEFAULT one",
            hint="a DEFAULT partition's constraint is everything the others leave: no CHECK "
            "can stand in for it, so ATTACH … DEFAULT always scans")
    name = p.constraint or object_name(bare(p.partition), suffix="bounds_check")
    parent, part, check = qualified(p.table), qualified(p.partition), ident(name)
    steps = validated(p.partition, name, f"CHECK ({p.check})",
                       "check constraint")
    steps[0].notes.append("The CHECK must say what the bounds say (the partition key NOT NULL "
                          "and within them), or ATTACH scans the table anyway.")
    steps.append(Step(
        f"attach_{bare(p.partition)}", f"Attach {p.partition} to {p.table} FOR VALUES {bounds}: "
        f"the validated CHECK spares the scan; then the CHECK goes.",
        [f"ALTER TABLE {parent} ATTACH PARTITION {part} FOR VALUES {bounds};",
         f"ALTER TABLE {part} DROP CONSTRAINT IF EXISTS {check};"],
        [f"ALTER TABLE {parent} DETACH PARTITION {part};",
         f"ALTER TABLE {part} ADD CONSTRAINT {check} CHECK ({p.check}) NOT VALID;",
         f"ALTER TABLE {part} VALIDATE CONSTRAINT {check};"],
        transactional=False,
        notes=[f"ATTACH takes SHARE UPDATE EXCLUSIVE on {p.table} (PostgreSQL 12+) and a brief "
               f"ACCESS EXCLUSIVE on {p.partition}.",
               f"If {p.table} has a DEFAULT partition, ATTACH scans it for rows of the new "
               "bounds: give it a validated CHECK that excludes them first (recipe add-check).",
               "No transaction: in the down part the CHECK is validated in its own "
               "transaction, not under the DETACH's lock."]))
    return steps
