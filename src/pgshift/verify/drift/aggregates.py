"""Aggregates (``CREATE AGGREGATE``): made, dropped, or made anew with another definition (OR
REPLACE, which keeps their grants and what reads them). The snapshot's definition is the
aggregate's options as CREATE AGGREGATE takes them, and its kind: an ordered-set aggregate's
arguments say ORDER BY, a hypothetical-set one is HYPOTHETICAL. One that becomes another kind
is a TODO line. Grants and comments: ``drift.attributes``."""

from __future__ import annotations

from pgshift.verify.drift.change import Catalogs, Change, Found, State


def aggregates(catalogs: Catalogs) -> Found:
    for key, before, after in catalogs.pairs("aggregate"):
        if before is not None and after is not None:
            if before["definition"] == after["definition"]:
                continue  # only its grants or comment
            if _options(before)[1] != _options(after)[1]:
                catalogs.by_hand("aggregate", key)  # OR REPLACE cannot change its kind
                continue
        for direction, old, new, _ in catalogs.directions(before, after):
            if new is None:
                yield direction, Change("aggregate", False, f"DROP AGGREGATE {key};")
            else:
                yield direction, Change("aggregate", True, _create(key, new, old is not None),
                                        () if old is not None else (("aggregate", key),))


def _create(key: str, state: State, replace: bool) -> str:
    options, kind = _options(state)
    if kind == "h":
        options.append("HYPOTHETICAL")
    head = "CREATE OR REPLACE AGGREGATE" if replace else "CREATE AGGREGATE"
    return f"{head} {key} ({', '.join(options)});"


def _options(state: State) -> tuple[list[str], str]:
    """The definition's options (``SFUNC = f, STYPE = integer, …``), but for ``KIND = x``:
    (the options, x). An INITCOND is a quoted literal, which may hold a comma."""
    options, current, quoted = [], "", False
    for char in str(state["definition"]):
        if char == "'":
            quoted = not quoted  # a doubled quote toggles twice: still inside
        if char == "," and not quoted:
            options.append(current.strip())
            current = ""
        else:
            current += char
    options.append(current.strip())
    kinds = [o.removeprefix("KIND = ") for o in options if o.startswith("KIND = ")]
    return [o for o in options if o and not o.startswith("KIND = ")], "".join(kinds) or "n"


def routine_signature(key: str) -> str:
    """The aggregate as GRANT names a routine: its arguments in one list, an ordered-set
    aggregate's direct ones first (``pct(float8 ORDER BY integer)`` -> ``pct(float8,
    integer)``); where both lists end in the same VARIADIC one, it is there once."""
    head, sep, rest = key.partition("(")
    arguments = rest.removesuffix(")")
    direct, by, aggregated = arguments.partition(" ORDER BY ")
    if not sep or not by:
        return key
    if aggregated.startswith("VARIADIC ") and direct.endswith(aggregated):
        return f"{head}({direct})"
    return f"{head}({direct}, {aggregated})"
