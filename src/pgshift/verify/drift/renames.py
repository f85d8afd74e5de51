"""Renames, which a drift migration cannot tell from a drop and an add: the catalogs name objects,
and a renamed column (or table) is one name gone and another new. The migration drops the old
one and adds the new one, which loses its values; where the two look alike (the one column a
table lost and the one it gained, of the same type; a table gone and one new with the same
columns) a TODO line says so, to write the RENAME by hand if it was one."""

from __future__ import annotations

from pgshift.verify.drift.change import Catalogs, State, columns_of, table_and_name

_NOT_COMPARED = ("position", "comment", "grants")


def note_renames(catalogs: Catalogs) -> None:
    _columns(catalogs)
    _tables(catalogs)


def _columns(catalogs: Catalogs) -> None:
    tables = [catalogs.expected.get("table", {}), catalogs.actual.get("table", {})]
    gone: dict[str, list[tuple[str, State]]] = {}
    new: dict[str, list[tuple[str, State]]] = {}
    for key, before, after in catalogs.pairs("column"):
        table, name = table_and_name(key)
        if not all(table in side and side[table]["kind"] in ("r", "p") for side in tables):
            continue
        if after is None and before is not None:
            gone.setdefault(table, []).append((name, before))
        elif before is None and after is not None:
            new.setdefault(table, []).append((name, after))
    for table in sorted(gone.keys() & new.keys()):
        if len(gone[table]) == len(new[table]) == 1:
            (old, before), (name, after) = gone[table][0], new[table][0]
            if _alike(before) == _alike(after):
                catalogs.todo.append(
                    f"column {table}.{name}: if it is {table}.{old} renamed, write ALTER TABLE "
                    f"{table} RENAME COLUMN {old} TO {name} instead of the DROP COLUMN and ADD "
                    f"COLUMN below, which lose {old}'s values")


def _tables(catalogs: Catalogs) -> None:
    gone, new = [], []
    for key, before, after in catalogs.pairs("table"):
        state = before if before is not None else after
        if state is None or state["kind"] not in ("r", "p") or state.get("inherits"):
            continue
        if after is None:
            gone.append((key, _shape(catalogs.expected, key)))
        elif before is None:
            new.append((key, _shape(catalogs.actual, key)))
    for old, columns in gone:
        alike = [key for key, shape in new if shape == columns]
        if len(alike) == 1 and [k for k, shape in gone if shape == columns] == [old]:
            catalogs.todo.append(
                f"table {alike[0]}: if it is {old} renamed (or moved), write ALTER TABLE {old} "
                f"RENAME TO (or SET SCHEMA) instead of the DROP TABLE and CREATE TABLE below, "
                f"which lose {old}'s rows")


def _alike(state: State) -> State:
    return {a: v for a, v in state.items() if a not in _NOT_COMPARED}


def _shape(snapshot: dict, table: str) -> list[tuple[str, State]]:
    return [(name, _alike(state)) for name, state in columns_of(snapshot, table)]
