"""PostgreSQL 18's NOT NULL constraints: a column's NOT NULL has a name, and may be NOT VALID.

A column that becomes NOT NULL gets its constraint by name (``ADD CONSTRAINT name NOT NULL
column``, NOT VALID when it is: no scan, and rows with NULLs stay), one made with its table or
column gets it inline (``CONSTRAINT name NOT NULL``). A column NOT NULL on both sides whose
constraint has another name is renamed, one validated since is validated, one that became NOT
VALID is dropped and added NOT VALID. Servers before 18 have no such constraints: nothing here
applies to them.
"""

from __future__ import annotations

from pgshift.verify.drift.change import Catalogs, Change, Found, identifiers

NotNull = tuple[str, bool]  # the constraint's name, whether it is valid


def not_null_constraints(catalogs: Catalogs) -> Found:
    want, have = by_column(catalogs.expected), by_column(catalogs.actual)
    for table, column in sorted(want.keys() & have.keys()):
        key = f"{table}.{column}"
        if want[table, column] == have[table, column] or not all(
                snapshot.get("column", {}).get(key, {}).get("not_null")
                for snapshot in (catalogs.expected, catalogs.actual)):
            continue
        for direction, (old, old_valid), (new, new_valid) in (
                ("up", want[table, column], have[table, column]),
                ("down", have[table, column], want[table, column])):
            alter = f"ALTER TABLE {table}"
            if old != new:
                yield direction, Change("constraint", True,
                                        f"{alter} RENAME CONSTRAINT {old} TO {new};")
            if new_valid and not old_valid:
                yield direction, Change("constraint", True, f"{alter} VALIDATE CONSTRAINT {new};")
            elif old_valid and not new_valid:
                yield direction, Change("constraint", True, f"{alter} DROP CONSTRAINT {new};")
                yield direction, Change("constraint", True, add_not_null(table, column,
                                                                         (new, new_valid)))


def by_column(snapshot: dict) -> dict[tuple[str, str], NotNull]:
    """Each NOT NULL constraint by (table, column), as the snapshot's keys name them."""
    found = {}
    for key, state in snapshot.get("constraint", {}).items():
        if state.get("type") != "n":
            continue
        head, _, table = key.partition(" on ")
        schema, name = identifiers(head)
        if len(identifiers(table)) == 1:  # regclass leaves out a schema on the search_path
            table = f"{schema}.{table}"
        column = str(state["definition"]).removeprefix("NOT NULL ").removesuffix(" NOT VALID")
        found[table, column] = (name, bool(state.get("valid", True)))
    return found


def constraint_of(snapshot: dict, table: str, column: str) -> NotNull | None:
    return by_column(snapshot).get((table, column))


def add_not_null(table: str, column: str, constraint: NotNull) -> str:
    name, valid = constraint
    if valid and name == f"{identifiers(table)[-1]}_{column}_not_null":
        # The name SET NOT NULL gives it on 18: the statement every version takes.
        return f"ALTER TABLE {table} ALTER COLUMN {column} SET NOT NULL;"
    return (f"ALTER TABLE {table} ADD CONSTRAINT {name} NOT NULL {column}"
            f"{'' if valid else ' NOT VALID'};")
