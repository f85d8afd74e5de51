"""Rules (``CREATE RULE``, as pg_get_ruledef prints them): made, dropped, or dropped and made
again with another definition, and whether they are enabled (``ALTER TABLE … DISABLE RULE``).

A rule goes with its relation: one on a view that the migration drops and makes again
(``drift.views``) is made again after it, changed or not. One on a relation that the
migration neither has on both sides nor makes (a table left to a TODO line) is a TODO line.
"""

from __future__ import annotations

from pgshift.verify.drift.change import Catalogs, Change, Found, definition, enabled_as


def rules(catalogs: Catalogs, made: dict[str, set[tuple[str, str]]]) -> Found:
    """``made`` holds what each direction makes (``drift.migration``)."""
    want, have = catalogs.expected.get("rule", {}), catalogs.actual.get("rule", {})
    for key in sorted(want.keys() | have.keys()):
        name, _, table = key.partition(" on ")
        before, after = want.get(key), have.get(key)
        for direction, old, new, _ in catalogs.directions(before, after):
            remade = ("table", table) in made[direction]
            if old == new and not remade:
                continue
            kept = old is not None and new is not None and (
                old["definition"] == new["definition"]) and not remade
            if kept:  # only whether it is enabled
                assert new is not None
                yield direction, Change("rule", True, f"ALTER TABLE {table} "
                                        f"{enabled_as(new['enabled'])} RULE {name};")
                continue
            if old is not None and not remade:
                yield direction, Change("rule", False, f"DROP RULE {name} ON {table};")
            if new is None:
                continue
            if not remade and not _on_both_sides(catalogs, table):
                catalogs.todo.append(f"rule {key}: on a relation that the {direction} part "
                                     "does not make")
                continue
            yield direction, Change("rule", True, definition(new))
            if new["enabled"] != "O":
                yield direction, Change("rule", True, f"ALTER TABLE {table} "
                                        f"{enabled_as(new['enabled'])} RULE {name};")


def _on_both_sides(catalogs: Catalogs, table: str) -> bool:
    return all(table in snapshot.get("table", {})
               for snapshot in (catalogs.expected, catalogs.actual))
