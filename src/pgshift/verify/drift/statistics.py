"""Extended statistics (``CREATE STATISTICS``, as pg_get_statisticsobjdef prints them): made,
dropped, or dropped and made again with another definition; their statistics target set
(``ALTER STATISTICS … SET STATISTICS``, -1 for the default) where it differs or they are made
with one. One on a table that the migration neither has on both sides nor makes (a table left
to a TODO line) is a TODO line."""

from __future__ import annotations

from pgshift.verify.drift.change import Catalogs, Change, Found, definition


def statistics(catalogs: Catalogs, made: dict[str, set[tuple[str, str]]]) -> Found:
    """``made`` holds what each direction makes (``drift.migration``)."""
    for key, before, after in catalogs.pairs("statistics"):
        for direction, old, new, _ in catalogs.directions(before, after):
            if old is not None and new is not None and old["definition"] == new["definition"]:
                yield direction, Change("statistics", True, _target(key, new))
                continue
            if old is not None:
                yield direction, Change("statistics", False, f"DROP STATISTICS {key};",
                                        reads=old["definition"])
            if new is None:
                continue
            table = _table(new)
            if ("table", table) in made[direction] or all(
                    table in snapshot.get("table", {})
                    for snapshot in (catalogs.expected, catalogs.actual)):
                yield direction, Change("statistics", True, definition(new),
                                        (("statistics", key),))
                if new.get("statistics_target") is not None:
                    yield direction, Change("statistics", True, _target(key, new))
            else:
                catalogs.todo.append(f"statistics object {key}: on a table that the "
                                     f"{direction} part does not make")


def _target(key: str, state: dict) -> str:
    target = state.get("statistics_target")
    return f"ALTER STATISTICS {key} SET STATISTICS {-1 if target is None else target};"


def _table(state: dict) -> str:
    """The table in ``CREATE STATISTICS name … ON … FROM table`` (the last FROM: an
    expression may hold one, as in EXTRACT(year FROM at))."""
    return str(state["definition"]).rpartition(" FROM ")[2].strip().rstrip(";")
