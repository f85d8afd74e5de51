"""Recipes for indexes and constraints: CONCURRENTLY, and NOT VALID then VALIDATE (also what
lets ATTACH PARTITION skip its scan)."""

from __future__ import annotations

from pgshift.errors import InputError
from pgshift.recipes.model import (
    Partition,
    RecipeParams,
    Step,
    bare,
    ident,
    ignore,
    literal,
    object_name,
    qualified,
    referenced,
    schema_prefix,
)


def add_index(p: RecipeParams) -> list[Step]:
    """CREATE INDEX CONCURRENTLY: no lock that blocks writes, in a no-transaction migration.
    On a partitioned table (which refuses CONCURRENTLY): ON ONLY it, then CONCURRENTLY on each
    partition, each attached."""
    p.need("add-index", "table", "columns")
    assert p.table and p.columns
    name = index_name(p)
    if p.partitions is not None:
        return [_partitioned_index(p, name)]
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


def index_name(p: RecipeParams) -> str:
    """The name recipe add-index gives the index (on a partitioned table: its parent index)."""
    assert p.table and p.columns
    return p.constraint or object_name(bare(p.table), p.columns, suffix="idx")


def partition_index_names(p: RecipeParams) -> list[tuple[Partition, str]]:
    """Each partition (at every level) of a partitioned table, with its index's name."""
    assert p.columns

    def walk(parts: tuple[Partition, ...]) -> list[tuple[Partition, str]]:
        named = []
        for part in parts:
            named.append((part, object_name(part.name, p.constraint or p.columns,
                                            suffix="idx")))
            named += walk(part.partitions or ())
        return named

    return walk(p.partitions or ())


def _partitioned_index(p: RecipeParams, name: str) -> Step:
    assert p.table and p.columns
    unique = "UNIQUE " if p.unique else ""
    names = {part: index for part, index in partition_index_names(p)}
    parent = f"{schema_prefix(p.table)}{ident(name)}"

    def build(parts: tuple[Partition, ...], attach_to: str) -> list[str]:
        sql = []
        for part in parts:
            index = f"{ident(part.schema)}.{ident(names[part])}"
            if part.partitions is None:
                sql.append(f"CREATE {unique}INDEX CONCURRENTLY IF NOT EXISTS "
                           f"{ident(names[part])} ON {part.table} ({p.columns});")
            else:
                sql.append(f"CREATE {unique}INDEX IF NOT EXISTS {ident(names[part])} "
                           f"ON ONLY {part.table} ({p.columns});")
                sql += build(part.partitions, index)
            sql.append(f"ALTER INDEX {attach_to} ATTACH PARTITION {index};")
        return sql

    return Step(
        f"add_index_{name}", f"Build index {name} on the partitioned table {p.table} "
        f"({p.columns}) without blocking writes: on each partition, then attached.",
        [f"CREATE {unique}INDEX IF NOT EXISTS {ident(name)} ON ONLY {qualified(p.table)} "
         f"({p.columns});", *build(p.partitions or (), parent), _require_valid(parent)],
        [ignore("drop-index-non-concurrent", "PostgreSQL cannot drop a partitioned index "
                "CONCURRENTLY; the drop reads no rows"),
         f"DROP INDEX IF EXISTS {parent};"],
        transactional=False,
        notes=["PostgreSQL builds no index CONCURRENTLY on a partitioned table. Here the index",
               "is made ON ONLY the partitioned table (no build; it starts INVALID), built",
               "CONCURRENTLY on each partition and attached: valid once all are.",
               "Partitions made after this runs get the index on their own; one made between",
               "'pgshift create' and this run has none, and the last statement says so.",
               "An interrupted build leaves an INVALID index: pgshift drops and rebuilds it."])


def _require_valid(index: str) -> str:
    """A DO block that raises unless the partitioned index is valid: a partition it missed
    (one added after the recipe was written, before this ran) has no index attached."""
    return (
        "DO $pgshift$\nBEGIN\n"
        f"  IF NOT (SELECT indisvalid FROM pg_index WHERE indexrelid = {literal(index)}"
        "::regclass) THEN\n"
        f"    RAISE EXCEPTION 'index % is not valid: a partition has no index attached to it', "
        f"{literal(index)}\n"
        "      USING HINT = 'CREATE INDEX CONCURRENTLY on the partition, ALTER INDEX ... ATTACH "
        "PARTITION it, then pgshift up again';\n"
        "  END IF;\nEND $pgshift$;")


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
    return validated(p.table, constraint_name("add-check", p), f"CHECK ({p.check})",
                     "check constraint")


def add_foreign_key(p: RecipeParams) -> list[Step]:
    p.need("add-foreign-key", "table", "column", "references")
    assert p.table and p.column and p.references
    target, columns, rest = referenced(p.references)
    keys = f" ({', '.join(ident(c) for c in columns)})" if columns else ""
    sql = (f"FOREIGN KEY ({ident(p.column)}) REFERENCES {qualified(target)}{keys}"
           + (f" {rest}" if rest else ""))
    steps = validated(p.table, constraint_name("add-foreign-key", p), sql, "foreign key")
    steps[0].notes.append(f"Index {p.table}.{p.column} too (recipe add-index), or deletes on "
                          f"{target} scan {p.table}.")
    return steps


def constraint_name(recipe: str, p: RecipeParams) -> str:
    """The name of the constraint recipe ``recipe`` adds (to --table; attach-partition: to
    --partition)."""
    if recipe == "add-check":
        assert p.table and p.check
        return p.constraint or object_name(bare(p.table), p.check, suffix="check")
    if recipe == "add-foreign-key":
        assert p.table and p.column
        return p.constraint or object_name(bare(p.table), p.column, suffix="fkey")
    if recipe == "set-not-null":
        assert p.table and p.column
        # Not "<table>_<col>_not_null": PostgreSQL 18 gives that name to the NOT NULL constraint.
        return object_name(bare(p.table), p.column, suffix="not_null_check")
    assert recipe == "attach-partition" and p.partition
    return p.constraint or object_name(bare(p.partition), suffix="bounds_check")


def set_not_null(p: RecipeParams) -> list[Step]:
    """CHECK (col IS NOT NULL) NOT VALID -> VALIDATE -> SET NOT NULL (no scan) -> drop CHECK."""
    p.need("set-not-null", "table", "column")
    assert p.table and p.column
    tbl, col = qualified(p.table), ident(p.column)
    name = constraint_name("set-not-null", p)
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
    name = constraint_name("attach-partition", p)
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
