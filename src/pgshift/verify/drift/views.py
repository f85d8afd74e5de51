"""Views: made, dropped, or changed (dropped first and made last: CREATE OR REPLACE cannot take a
column away, and the columns a view reads may change in between).

A view that changed takes with it every view that reads it, changed or not: PostgreSQL refuses
to drop a view another one reads. So the views that read it are dropped before it and made
again after it, the deepest reader dropped first and made last. A view counts as changed when
its definition, its options (``security_invoker``, ``security_barrier``, ``check_option``) or
its columns' types differ: a column it reads that gets another type cannot change while the
view exists. A materialized view that reads such a view is a TODO line.
"""

from __future__ import annotations

import re
from collections.abc import Iterable

from pgshift.verify.drift.change import Catalogs, Change, Found, State, columns_of


def views(catalogs: Catalogs) -> Found:
    want, have = _views(catalogs.expected), _views(catalogs.actual)
    tables = catalogs.expected.get("table", {}).keys() | catalogs.actual.get("table", {}).keys()
    other_kind = {key for key in tables if (key in want) != (key in have)
                  and key in catalogs.expected.get("table", {})
                  and key in catalogs.actual.get("table", {})}  # a TODO line (drift.tables)
    rebuilt = {key for key in (want.keys() | have.keys()) - other_kind
               if key not in want or key not in have or _differs(catalogs, key)}
    rebuilt |= _readers(want.keys() & have.keys(), want, rebuilt)
    _materialized_readers(catalogs, rebuilt)
    for direction, old, new, snapshot in (("up", want, have, catalogs.actual),
                                          ("down", have, want, catalogs.expected)):
        for key in _in_order([k for k in rebuilt if k in old], old, reverse=True):
            yield direction, Change("view", False, f"DROP VIEW {key};")
        for key in _in_order([k for k in rebuilt if k in new], new):
            made = (("table", key), *(("column", f"{key}.{name}")
                                      for name, _ in columns_of(snapshot, key)))
            yield direction, Change("view", True, _create(key, new[key]), made)


def _views(snapshot: dict) -> dict[str, State]:
    return {key: state for key, state in snapshot.get("table", {}).items()
            if state["kind"] == "v"}


def _differs(catalogs: Catalogs, key: str) -> bool:
    before, after = catalogs.expected["table"][key], catalogs.actual["table"][key]
    if (before["definition"], before.get("options")) != (after["definition"],
                                                         after.get("options")):
        return True

    def shape(snapshot: dict) -> list[tuple[str, State]]:
        return [(name, {a: v for a, v in state.items() if a not in ("comment", "grants")})
                for name, state in columns_of(snapshot, key)]

    return shape(catalogs.expected) != shape(catalogs.actual)


def _reads(definition: str | None, name: str) -> bool:
    """Whether a view's definition names the relation ``name`` (schema-qualified, as the
    snapshot prints it). A name in a string counts too: one view too many is made again."""
    return bool(re.search(rf'(?<![\w$."]){re.escape(name)}(?![\w$"])', definition or ""))


def _readers(candidates: Iterable[str], views: dict[str, State], rebuilt: set[str]) -> set[str]:
    """The views among ``candidates`` (the same on both sides) that read a rebuilt view, and
    those that read them, and so on."""
    found: set[str] = set()
    grew = True
    while grew:
        grew = False
        for key in sorted(set(candidates) - rebuilt - found):
            if any(_reads(views[key]["definition"], other) for other in rebuilt | found):
                found.add(key)
                grew = True
    return found


def _materialized_readers(catalogs: Catalogs, rebuilt: set[str]) -> None:
    for key, state in sorted(catalogs.expected.get("table", {}).items()):
        other = catalogs.actual.get("table", {}).get(key)
        if state["kind"] != "m" or other is None or other != state:
            continue  # one that differs is a TODO line already
        read = sorted(name for name in rebuilt if _reads(state["definition"], name))
        if read:
            catalogs.todo.append(f"materialized view {key}: reads {', '.join(read)}, which "
                                 "the migration drops and makes again: drop it before and make "
                                 "it again after")


def _in_order(keys: list[str], views: dict[str, State], *, reverse: bool = False) -> list[str]:
    """What a view reads first (``reverse``: its readers first)."""
    memo: dict[str, int] = {}

    def depth(key: str, seen: frozenset[str]) -> int:
        if key not in memo:
            reads = [other for other in views if other not in seen
                     and _reads(views[key]["definition"], other)]
            memo[key] = 1 + max((depth(other, seen | {key}) for other in reads), default=-1)
        return memo[key]

    return sorted(keys, key=lambda k: (-depth(k, frozenset({k})) if reverse
                                       else depth(k, frozenset({k})), k))


def _create(key: str, state: State) -> str:
    options = f" WITH ({', '.join(state['options'])})" if state.get("options") else ""
    return f"CREATE VIEW {key}{options} AS\n{state['definition']}"
