"""Foreign data: wrappers, servers and user mappings.

- Foreign-data wrappers (``CREATE FOREIGN DATA WRAPPER``): made with their handler, validator
  and options, dropped, and those changed in place (``ALTER FOREIGN DATA WRAPPER``).
- Foreign servers (``CREATE SERVER``): made with their type, version and options, dropped, and
  their version and options changed in place (``ALTER SERVER … VERSION``, ``OPTIONS (ADD | SET
  | DROP …)``). One on another foreign-data wrapper or of another type is a TODO line.
- User mappings: made with their options, dropped, options changed. The snapshot shows only
  the names of options that may hold a password (``password=********``) and compares their
  values as a digest: the file never holds one. Such an option to add or set is a TODO line
  that names it, without its value; one to drop is written.

Grants: ``drift.attributes``."""

from __future__ import annotations

from pgshift.recipes.model import ident
from pgshift.verify.drift.change import Catalogs, Change, Found, State, one_side, quoted

_MASK = "********"  # the snapshot's value of a user mapping's option that may be a password


def servers(catalogs: Catalogs) -> Found:
    for key, before, after in catalogs.pairs("foreign server"):
        name = ident(key)
        if before is None or after is None:
            state = after if after is not None else before
            assert state is not None
            yield from one_side(key, "foreign server", before, after, _create(name, state),
                                f"DROP SERVER {name};", (("foreign server", key),))
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


def wrappers(catalogs: Catalogs) -> Found:
    for key, before, after in catalogs.pairs("foreign data wrapper"):
        name = ident(key)
        if before is None or after is None:
            state = after if after is not None else before
            assert state is not None
            yield from one_side(key, "foreign data wrapper", before, after,
                                f"CREATE FOREIGN DATA WRAPPER {name}{_functions(None, state)}"
                                f"{_with_options(state)};", f"DROP FOREIGN DATA WRAPPER {name};",
                                (("foreign data wrapper", key),))
            continue
        for direction, old, new, _ in catalogs.directions(before, after):
            assert old is not None and new is not None
            changes = _functions(old, new)
            options = _option_changes(_options(old), _options(new))
            if options:
                changes += f" OPTIONS ({options})"
            if changes:
                yield direction, Change("foreign data wrapper", True,
                                        f"ALTER FOREIGN DATA WRAPPER {name}{changes};")


def _functions(old: State | None, new: State) -> str:
    """`` HANDLER h VALIDATOR v`` (or NO HANDLER …) where they differ from ``old``'s."""
    text = ""
    for attribute, word in (("handler", "HANDLER"), ("validator", "VALIDATOR")):
        if old is None and new.get(attribute) is None:
            continue
        if old is None or old.get(attribute) != new.get(attribute):
            text += (f" NO {word}" if new.get(attribute) is None
                     else f" {word} {new[attribute]}")
    return text


def user_mappings(catalogs: Catalogs) -> Found:
    for key, before, after in catalogs.pairs("user mapping"):
        state = after if after is not None else before
        assert state is not None
        target = f"FOR {state['role']} SERVER {ident(state['server'])}"
        if before is None or after is None:
            yield from one_side(key, "user mapping", before, after, f"CREATE USER MAPPING "
                                f"{target}{_with_options(state, hidden=False)};",
                                f"DROP USER MAPPING {target};")
            _hidden_todo(catalogs, key, before, after)
            continue
        for direction, old, new, _ in catalogs.directions(before, after):
            assert old is not None and new is not None
            changes = _option_changes(*(_options(s, hidden=False) for s in (old, new)))
            changes = ", ".join([*(f"DROP {ident(k)}" for k in _options(old)
                                   if k not in _options(new) and _options(old)[k] == _MASK),
                                 *([changes] if changes else [])])
            if changes:
                yield direction, Change("user mapping", True,
                                        f"ALTER USER MAPPING {target} OPTIONS ({changes});")
        _hidden_todo(catalogs, key, before, after)


def _hidden_todo(catalogs: Catalogs, key: str, before: State | None, after: State | None
                 ) -> None:
    """A TODO line naming the options, of either side, whose values the file cannot hold
    (passwords): those that differ, or all of a mapping made or dropped."""
    masked = [{k for k, v in _options(s or {}).items() if v == _MASK} for s in (before, after)]
    same = before is not None and after is not None and before.get("secrets") == after.get(
        "secrets")
    names = sorted(masked[0] ^ masked[1] if same else masked[0] | masked[1])
    state = after if after is not None else before
    if names and state is not None:
        catalogs.todo.append(
            f"user mapping {key}: {', '.join(names)} differ; set by hand (ALTER USER MAPPING "
            f"FOR {state['role']} SERVER {ident(state['server'])} OPTIONS (ADD, SET or DROP "
            "…)): a value that may be a password is never written")


def _with_options(state: State, *, hidden: bool = True) -> str:
    options = _options(state, hidden=hidden)
    return (" OPTIONS (" + ", ".join(f"{ident(k)} {quoted(v)}" for k, v in options.items())
            + ")") if options else ""


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


def _options(state: State, *, hidden: bool = True) -> dict[str, str]:
    """``["host=db", "port=5432"]`` (the catalog's) as {name: value}; ``hidden``: with the
    options whose values are not shown (``_MASK``)."""
    found = dict(item.partition("=")[::2] for item in state.get("options") or [])
    return {k: v for k, v in found.items() if hidden or v != _MASK}


def _option_changes(old: dict[str, str], new: dict[str, str]) -> str:
    return ", ".join([*(f"DROP {ident(k)}" for k in old if k not in new),
                      *(f"SET {ident(k)} {quoted(v)}" for k, v in new.items()
                        if k in old and old[k] != v),
                      *(f"ADD {ident(k)} {quoted(v)}" for k, v in new.items() if k not in old)])
