"""A column's settings beside its type: its statistics target (SET STATISTICS), its storage
(SET STORAGE) and its compression (SET COMPRESSION).

ALTER COLUMN … TYPE (or COLLATE) gives a column its new type's storage and no compression, so
where the type changes they are set again even when alike on both sides. The snapshot says a
storage as ``MAIN (its type has EXTENDED)``: what to go back to, which SET STORAGE DEFAULT
(PostgreSQL 16+) would say on later servers only.
"""

from __future__ import annotations

from pgshift.verify.drift.change import State


def column_settings(table: str, column: str, old: State | None, new: State) -> list[str]:
    """From ``old`` (None: a column just made, or made again) to ``new``."""
    alter = f"ALTER TABLE {table} ALTER COLUMN {column}"
    before = old or {}
    retyped = old is not None and (old["type"] != new["type"]
                                   or old.get("collation") != new.get("collation"))
    statements = []
    if before.get("statistics_target") != new.get("statistics_target"):
        statements.append(statistics_target(table, column, new))
    storage, had = new.get("storage"), before.get("storage")
    if storage is not None and (storage != had or retyped):
        statements.append(f"{alter} SET STORAGE {storage.split()[0]};")
    elif storage is None and had is not None and not retyped:  # back to its type's
        statements.append(f"{alter} SET STORAGE {had.rstrip(')').split()[-1]};")
    compression, had = new.get("compression"), before.get("compression")
    if compression is not None and (compression != had or retyped):
        statements.append(f"{alter} SET COMPRESSION {compression};")
    elif compression is None and had is not None and not retyped:
        statements.append(f"{alter} SET COMPRESSION DEFAULT;")
    return statements


def statistics_target(table: str, column: str, state: State) -> str:
    """ALTER … SET STATISTICS: the column's target, or -1 for the default (17 also says
    DEFAULT)."""
    target = state.get("statistics_target")
    return (f"ALTER TABLE {table} ALTER COLUMN {column} SET STATISTICS "
            f"{-1 if target is None else target};")
