"""Collations (``CREATE COLLATION``): made or dropped, from the catalog's row (its provider,
locales, ICU rules and whether it is deterministic). One whose definition changed is a TODO
line: the columns and indexes that use it keep it, so it cannot be dropped and made again, and
ALTER COLLATION changes only its version. So is one of a provider this does not know."""

from __future__ import annotations

import json

from pgshift.verify.drift.change import Catalogs, Found, State, one_side, quoted

# What the row says that CREATE COLLATION cannot (the encoding follows the database's).
_NOT_WRITTEN = {"collencoding"}


def collations(catalogs: Catalogs) -> Found:
    for key, before, after in catalogs.pairs("collation"):
        state = after if after is not None else before
        assert state is not None
        create = _create(key, state)
        if before is not None and after is not None:
            old, new = json.loads(before["definition"]), json.loads(after["definition"])
            changed = "; ".join(f"{name} is {new.get(name)!r} in the database, was "
                                f"{old.get(name)!r} after the migrations"
                                for name in sorted(old.keys() | new.keys())
                                if old.get(name) != new.get(name))
            catalogs.todo.append(f"collation {key}: {changed} (what uses it keeps it: it "
                                 "cannot be dropped and made again)")
            continue
        if create is None:
            catalogs.by_hand("collation", key)
            continue
        yield from one_side(key, "collation", before, after, create, f"DROP COLLATION {key};",
                            (("collation", key),))


def _create(key: str, state: State) -> str | None:
    """CREATE COLLATION, or None where the row holds what this cannot write."""
    row = json.loads(str(state["definition"]))
    provider = row.pop("collprovider", None)
    locale = row.pop("colllocale", None) or row.pop("colliculocale", None)
    row.pop("colllocale", None)
    row.pop("colliculocale", None)
    collate, ctype, rules = row.pop("collcollate", None), row.pop("collctype", None), row.pop(
        "collicurules", None)
    deterministic = row.pop("collisdeterministic", True)
    if any(v is not None for name, v in row.items() if name not in _NOT_WRITTEN):
        return None
    if provider == "c" and collate is not None and ctype is not None:
        options = [f"LC_COLLATE = {quoted(collate)}", f"LC_CTYPE = {quoted(ctype)}"]
    elif provider in ("i", "b") and locale is not None:
        options = [f"LOCALE = {quoted(locale)}"]
        if rules is not None:
            options.append(f"RULES = {quoted(rules)}")
    else:
        return None
    provider_name = {"c": "libc", "i": "icu", "b": "builtin"}[provider]
    return (f"CREATE COLLATION {key} (PROVIDER = {provider_name}, {', '.join(options)}, "
            f"DETERMINISTIC = {'true' if deterministic else 'false'});")
