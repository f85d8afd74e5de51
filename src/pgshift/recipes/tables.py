"""Recipe remove-table: retire the table under another name for a release, then drop it.

A DROP TABLE is final: code that still used the table fails and the data is gone. Renamed
away, the table makes whatever still uses it fail just as loudly, but the data stays, and the
down part (a rename back) restores everything at once. The drop comes a release later.
"""

from __future__ import annotations

from pgshift.recipes.model import (
    RecipeParams,
    Step,
    bare,
    ident,
    ignore,
    object_name,
    qualified,
    schema_prefix,
)

RETIRED = ("the app no longer uses the table: anything that still does fails loudly while the "
           "data is kept, and the down part renames it back")


def remove_table(p: RecipeParams) -> list[Step]:
    """Two contract migrations: rename the table away (reversible); a release later, drop it
    (irreversible: the data goes)."""
    p.need("remove-table", "table")
    assert p.table
    name, retired_name = bare(p.table), retired_table_name(p)
    table, retired = qualified(p.table), schema_prefix(p.table) + ident(retired_name)
    return [
        Step(f"retire_{name}", f"Retire {p.table}: rename it to {retired_name}, data kept.",
             [ignore("rename-table", RETIRED),
              f"ALTER TABLE {table} RENAME TO {ident(retired_name)};"],
             [f"ALTER TABLE {retired} RENAME TO {ident(name)};"],
             phase="contract",
             notes=["Contract step: run it once no application version uses the table.",
                    "Keep the next step for a later release: until then, rolling this one "
                    "back brings the table back whole."]),
        Step(f"drop_{retired_name}", f"Drop {retired_name}, retired a release ago.",
             [ignore("drop-table", "retired a release ago: nothing has used it since"),
              f"DROP TABLE {retired};"],
             [], phase="contract", irreversible=True,
             notes=["Irreversible: the rows go with the table. Take a backup first if they "
                    "may be wanted."]),
    ]


def retired_table_name(p: RecipeParams) -> str:
    """The name the table is retired under: --name, or ``<table>_retired``."""
    assert p.table
    return p.constraint or object_name(bare(p.table), suffix="retired")
