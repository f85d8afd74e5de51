"""Foreign servers (``CREATE SERVER``): made with their type, version and options, dropped, and
their version and options changed in place (``ALTER SERVER … VERSION``, ``OPTIONS (ADD | SET |
DROP …)``). One on another foreign-data wrapper or of another type is a TODO line. Grants:
``drift.attributes``; user mappings are not in the snapshot."""

from __future__ import annotations

from pgshift.recipes.model import ident
from pgshift.verify.drift.change import Catalogs, Change, Found, State, quoted


def servers(catalogs: Catalogs) -> Found:
    for key, before, after in catalogs.pairs("foreign server"):
        name = ident(key)
        if before is None or after is None:
            state = after if after is not None else before
            assert state is not None
            made = Change("foreign server", True, _create(name, state),
                          (("foreign server", key),))
            dropped = Change("foreign server", False, f"DROP SERVER {name};")
            yield "up", made if after is not None else dropped
            yield "down", dropped if after is not None else made
            continue
        if (before["wrapper"], before["type"]) != (after["wrapper"], after["type"]):
            catalogs.by_hand("foreign server", key)
            continue
        for direction, old, new, _ in catalogs.directions(before, after):
            assert old is not None and new is not None
            if old["version"] != new["version"]:
                version = "NULL" if new["version"] is None else quoted(new["version"])
                yield direction, Change("foreign server", True,
                                        f"ALTER SERVER {name} VERSION {version};")
            changes = _option_changes(_options(old), _options(new))
            if changes:
                yield direction, Change("foreign server", True,
                                        f"ALTER SERVER {name} OPTIONS ({changes});")


def _create(name: str, state: State) -> str:
    sql = f"CREATE SERVER {name}"
    if state.get("type") is not None:
        sql += f" TYPE {quoted(state['type'])}"
    if state.get("version") is not None:
        sql += f" VERSION {quoted(state['version'])}"
    sql += f" FOREIGN DATA WRAPPER {ident(state['wrapper'])}"
    options = _options(state)
    if options:
        sql += " OPTIONS (" + ", ".join(f"{ident(k)} {quoted(v)}" for k, v in options.items()) + ")"
    return sql + ";"


def _options(state: State) -> dict[str, str]:
    """``["host=db", "port=5432"]`` (the catalog's) as {name: value}."""
    return dict(item.partition("=")[::2] for item in state.get("options") or [])


def _option_changes(old: dict[str, str], new: dict[str, str]) -> str:
    return ", ".join([*(f"DROP {ident(k)}" for k in old if k not in new),
                      *(f"SET {ident(k)} {quoted(v)}" for k, v in new.items()
                        if k in old and old[k] != v),
                      *(f"ADD {ident(k)} {quoted(v)}" for k, v in new.items() if k not in old)])
