"""Who owns an object: ALTER … OWNER TO where it differs.

The snapshot names an owner only where it is not the role reading (``verify.snapshot``), so
none here is the role that runs the file: ``OWNER TO CURRENT_USER``, whatever its name. Owners
are written apart from the rest: the other writers read snapshots without them (an owner alone
changes no definition), and this one runs once they have said what each part makes. An object
made (or made again, as a changed view) starts as the running role's; one replaced in place
(CREATE OR REPLACE) keeps its owner. ALTER … OWNER TO also moves the object's grants to the new
owner, so grants that differ only in their owner say nothing more (``drift.attributes``).
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import TYPE_CHECKING

from pgshift.recipes.model import ident
from pgshift.verify.drift.change import Change, Found, State, table_and_name

if TYPE_CHECKING:
    from pgshift.verify.snapshot import Snapshot

# The kinds whose owner the snapshot says, and how ALTER names them.
_ALTER = {"schema": "SCHEMA", "sequence": "SEQUENCE", "aggregate": "AGGREGATE",
          "collation": "COLLATION", "statistics": "STATISTICS", "publication": "PUBLICATION",
          "event trigger": "EVENT TRIGGER", "foreign data wrapper": "FOREIGN DATA WRAPPER",
          "foreign server": "SERVER"}
_RELATIONS = {"v": "VIEW", "m": "MATERIALIZED VIEW", "f": "FOREIGN TABLE"}
OWNED = ("schema", "table", "sequence", "function", "aggregate", "type", "collation",
         "statistics", "publication", "event trigger", "foreign data wrapper", "foreign server")
# Named as themselves, not schema-qualified: quoted here (a snapshot's key is not).
_BARE_NAMES = ("schema", "publication", "event trigger", "foreign data wrapper",
               "foreign server")


def without_owners(snapshot: Snapshot) -> Snapshot:
    """The snapshot as the other writers read it."""
    return {category: {key: {a: v for a, v in state.items() if a != "owner"}
                       for key, state in objects.items()} if category in OWNED else objects
            for category, objects in snapshot.items()}


def reowned(expected: Snapshot, actual: Snapshot) -> set[tuple[str, str]]:
    """(category, key) of the objects on both sides whose owner differs."""
    return {(category, key) for category in OWNED
            for key, state in expected.get(category, {}).items()
            if key in actual.get(category, {})
            and state.get("owner") != actual[category][key].get("owner")}


def owners(expected: Snapshot, actual: Snapshot, made: dict[str, set[tuple[str, str]]]
           ) -> Found:
    """``made`` holds what each direction makes (``drift.migration``); an object on one side
    only that nothing makes is under its own TODO line."""
    for category in OWNED:
        want, have = expected.get(category, {}), actual.get(category, {})
        for key in sorted(want.keys() | have.keys()):
            for direction, old, new, then in (("up", want.get(key), have.get(key), expected),
                                              ("down", have.get(key), want.get(key), actual)):
                remade = (category, key) in made[direction]
                if new is None or (old is None and not remade):
                    continue
                had = None if remade or old is None else old.get("owner")
                if category == "sequence" and new.get("owned_by"):
                    # Its table's owner, and its table's ALTER … OWNER TO moves it; but it can
                    # be given to a column only as that table's owner's.
                    if old is not None and not old.get("owned_by"):
                        for change in _to_its_table(key, had, new["owned_by"], then,
                                                    made[direction]):
                            yield direction, change
                    continue
                # A sequence taken from its column keeps its table's owner, which is unsaid.
                freed = bool(old and old.get("owned_by"))
                if new.get("owner") != had or freed:
                    # An event trigger is made after the rest (``drift.order``): so is its owner.
                    kind = "event trigger" if category == "event trigger" else "owner"
                    yield direction, Change(kind, True, f"ALTER {_what(category, new)} "
                                            f"{ident(key) if category in _BARE_NAMES else key} "
                                            f"OWNER TO {new.get('owner') or 'CURRENT_USER'};")


def _to_its_table(key: str, had: str | None, column: str, then: Snapshot,
                  made: set[tuple[str, str]]) -> Iterator[Change]:
    """A sequence given to a column gets, before OWNED BY, the owner its table has then."""
    table = table_and_name(column)[0]
    before = then.get("table", {}).get(table)
    owner = None if before is None or ("table", table) in made else before.get("owner")
    if owner != had:
        yield Change("column", True, f"ALTER SEQUENCE {key} OWNER TO {owner or 'CURRENT_USER'};")


def _what(category: str, state: State) -> str:
    if category == "table":
        return _RELATIONS.get(str(state.get("kind")), "TABLE")
    if category == "function":
        return "PROCEDURE" if state.get("kind") == "p" else "FUNCTION"
    if category == "type":
        return "DOMAIN" if state.get("kind") == "d" else "TYPE"
    return _ALTER[category]
