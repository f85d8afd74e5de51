"""Recipe add-partition: a new, empty partition without ACCESS EXCLUSIVE on the parent.

``CREATE TABLE … PARTITION OF`` locks the partitioned table ACCESS EXCLUSIVE, so it queues
behind every running query and every query queues behind it. A table made on its own (a copy of
an existing partition's columns, indexes and constraints) and then attached takes only SHARE
UPDATE EXCLUSIVE on the parent (PostgreSQL 12+), and its bounds check reads an empty table.
"""

from __future__ import annotations

from pgshift.recipes.model import RecipeParams, Step, bare, literal, qualified
from pgshift.recipes.partition_table import copy_access


def add_partition(p: RecipeParams) -> list[Step]:
    """One migration: CREATE TABLE (LIKE …) and ATTACH PARTITION; the down detaches and drops
    it only while it is empty."""
    if not (p.table and p.partition and p.bounds):
        p.need("add-partition", "table", "partition", "bounds")
    assert p.table and p.partition and p.bounds
    parent, part = qualified(p.table), qualified(p.partition)
    like = qualified(p.like) if p.like else parent
    bounds = p.bounds.strip()
    if not bounds.upper().startswith(("FOR VALUES", "DEFAULT")):
        bounds = f"FOR VALUES {bounds}"
    return [Step(
        f"add_partition_{bare(p.partition)}",
        f"Add partition {p.partition} of {p.table} {bounds}, empty, without ACCESS EXCLUSIVE "
        f"on {p.table}.",
        [f"CREATE TABLE {part} (LIKE {like} INCLUDING ALL);",
         *([_drop_own_checks(part, parent)] if p.like else []),
         f"ALTER TABLE {parent} ATTACH PARTITION {part} {bounds};",
         copy_access(parent, (part,))],
        [_drop_if_empty(parent, part)],
        notes=[f"The new table copies {p.like or p.table}'s columns, defaults, constraints and "
               "indexes (--like names a partition to copy when the partitioned table has no "
               "indexes of its own); the partitioned table's foreign keys and indexes attach "
               "on their own.",
               f"If {p.table} has a DEFAULT partition, ATTACH scans it for rows of the new "
               "bounds: give it a validated CHECK that excludes them first (recipe add-check)."])]


def _drop_own_checks(part: str, parent: str) -> str:
    """A DO block dropping the CHECKs the copied partition had and the partitioned table has
    not: a sibling's own CHECK, such as the one that spared its ATTACH a scan, says what its
    bounds say and would refuse every row of the new ones."""
    return (
        "DO $pgshift$\nDECLARE\n  c record;\nBEGIN\n"
        f"  FOR c IN SELECT conname FROM pg_constraint WHERE conrelid = {literal(part)}::regclass\n"
        "           AND contype = 'c' AND conname NOT IN (SELECT conname FROM pg_constraint\n"
        f"           WHERE conrelid = {literal(parent)}::regclass) LOOP\n"
        f"    EXECUTE format('ALTER TABLE %s DROP CONSTRAINT %I', {literal(part)}::regclass, "
        "c.conname);\n"
        "  END LOOP;\nEND $pgshift$;")


def _drop_if_empty(parent: str, part: str) -> str:
    """A DO block detaching and dropping the partition, or refusing while it holds rows: a down
    part must not throw data away."""
    return (
        "DO $pgshift$\nBEGIN\n"
        f"  IF EXISTS (SELECT 1 FROM {part}) THEN\n"
        f"    RAISE EXCEPTION 'partition % holds rows: not dropped', {literal(part)}\n"
        "      USING HINT = 'detach it (and keep or move its rows) by hand';\n"
        "  END IF;\n"
        f"  ALTER TABLE {parent} DETACH PARTITION {part};\n"
        f"  DROP TABLE {part};\n"
        "END $pgshift$;")
