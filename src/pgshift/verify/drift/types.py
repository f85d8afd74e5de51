"""Types: enums (made, dropped, values added or renamed), domains (made, dropped, another
default or NOT NULL; their CHECK constraints are constraints), composite types (made, dropped,
attributes added, dropped or given another type) and range types (made or dropped, with their
multirange type). PostgreSQL cannot remove a value from an enum: the down part says so in a
comment and leaves the value. By hand: a type that becomes another kind, an enum whose values
were removed or reordered, a domain over another type, a composite type's attributes in
another order, a range's settings changed, or its CANONICAL function. A SUBTYPE_DIFF function
the file makes is made before the range (``drift.order``)."""

from __future__ import annotations

from pgshift.verify.drift.change import Catalogs, Change, Found, State, differing, quoted

# A type made in its own kind: enums and ranges first, then domains over them, then composite
# types whose attributes may be of any of those.
_KINDS = {"e": "type", "r": "type", "d": "domain", "c": "composite"}


def types(catalogs: Catalogs) -> Found:
    for key, before, after in catalogs.pairs("type"):
        if before is not None and after is not None and not differing(before, after, ("grants",)):
            continue  # grants: written afterwards
        kinds = {s["kind"] for s in (before, after) if s is not None}
        if kinds == {"m"}:
            one_side = before is None or after is None
            if not (one_side and _made_with_its_range(catalogs, key)):
                catalogs.by_hand("type", key)
        elif len(kinds) > 1 or (kinds == {"r"} and before is not None and after is not None):
            catalogs.by_hand("type", key)  # another kind, or a range's settings: by hand
        elif before is None or after is None:
            yield from _made_or_dropped(catalogs, key, before, after)
        elif kinds == {"e"}:
            yield from _enum_changes(catalogs, key, before, after)
        elif kinds == {"d"}:
            yield from _domain_changes(catalogs, key, before, after)
        elif before.get("attributes") != after.get("attributes"):
            yield from _composite_changes(catalogs, key, before, after)


def _made_or_dropped(catalogs: Catalogs, key: str, before: State | None, after: State | None
                     ) -> Found:
    state = after if after is not None else before
    assert state is not None
    kind = state["kind"]
    if kind == "r" and not _range_is_written(state):
        catalogs.by_hand("type", key)
        return
    create = Change(_KINDS[kind], True, _create(key, state), (("type", key), *_multirange(state)))
    drop = Change(_KINDS[kind], False, f"DROP {'DOMAIN' if kind == 'd' else 'TYPE'} {key};",
                  reads=_create(key, state))
    yield "up", create if after is not None else drop
    yield "down", drop if after is not None else create


def _create(key: str, state: State) -> str:
    kind = state["kind"]
    if kind == "e":
        return f"CREATE TYPE {key} AS ENUM ({', '.join(map(quoted, state['labels']))});"
    if kind == "c":
        return f"CREATE TYPE {key} AS ({', '.join(state['attributes'])});"
    if kind == "r":
        return f"CREATE TYPE {key} AS RANGE ({state['range']});"
    spec = state["base_type"]
    if state.get("default") is not None:
        spec += f" DEFAULT {state['default']}"
    if state.get("not_null"):
        spec += " NOT NULL"
    return f"CREATE DOMAIN {key} AS {spec};"


def _range_is_written(state: State) -> bool:
    """A range's CANONICAL function needs the type as a shell first: by hand."""
    options = _range_options(state)
    return "SUBTYPE" in options and "CANONICAL" not in options


def _multirange(state: State) -> tuple[tuple[str, str], ...]:
    """The multirange type a range's CREATE TYPE makes with it."""
    name = _range_options(state).get("MULTIRANGE_TYPE_NAME")
    return (("type", name),) if name else ()


def _range_options(state: State) -> dict[str, str]:
    """``SUBTYPE = integer, SUBTYPE_OPCLASS = …`` (the snapshot's ``range``) as a dict."""
    options = {}
    for part in str(state.get("range") or "").split(", "):
        name, _, value = part.partition(" = ")
        options[name] = value
    return options


def _made_with_its_range(catalogs: Catalogs, key: str) -> bool:
    for _, before, after in catalogs.pairs("type"):
        if (before is None) != (after is None):
            state = after if after is not None else before
            assert state is not None
            if state["kind"] == "r" and ("type", key) in _multirange(state):
                return _range_is_written(state)
    return False


def _enum_changes(catalogs: Catalogs, key: str, before: State, after: State) -> Found:
    """Values added (the old ones keep their order) or renamed in place; the rest by hand."""
    old, new = list(before["labels"]), list(after["labels"])
    if len(old) == len(new):
        for a, b in zip(old, new, strict=True):
            if a != b:
                yield "up", Change("type", True,
                                   f"ALTER TYPE {key} RENAME VALUE {quoted(a)} TO {quoted(b)};")
                yield "down", Change("type", True,
                                     f"ALTER TYPE {key} RENAME VALUE {quoted(b)} TO {quoted(a)};")
        return
    if len(old) > len(new) or [v for v in new if v in old] != old:
        catalogs.by_hand("type", key)
        return
    for index, value in enumerate(new):
        if value in old:
            continue
        place = (f" BEFORE {quoted(new[index + 1])}" if index + 1 < len(new)
                 and new[index + 1] in old else f" AFTER {quoted(new[index - 1])}"
                 if index > 0 else "")
        # IF NOT EXISTS: the down part leaves the value, and up runs again after it
        yield "up", Change("type", True,
                           f"ALTER TYPE {key} ADD VALUE IF NOT EXISTS {quoted(value)}{place};")
        yield "down", Change("type", True, f"-- PostgreSQL cannot remove a value from an enum: "
                                           f"{key} keeps {quoted(value)}")


def _domain_changes(catalogs: Catalogs, key: str, before: State, after: State) -> Found:
    if before["base_type"] != after["base_type"]:
        catalogs.by_hand("type", key)
        return
    for direction, old, new, _ in catalogs.directions(before, after):
        assert old is not None and new is not None
        if old.get("default") != new.get("default") and new.get("default") is None:
            # With the drops: before a function it called goes.
            yield direction, Change("domain", False, f"ALTER DOMAIN {key} DROP DEFAULT;",
                                    reads=str(old.get("default")))
        elif old.get("default") != new.get("default"):
            yield direction, Change("domain", True,
                                    f"ALTER DOMAIN {key} SET DEFAULT {new['default']};")
        if old.get("not_null") != new.get("not_null"):
            yield direction, Change("domain", True, f"ALTER DOMAIN {key} "
                                    f"{'SET' if new.get('not_null') else 'DROP'} NOT NULL;")


def _composite_changes(catalogs: Catalogs, key: str, before: State, after: State) -> Found:
    """Attributes added (last), dropped, or given another type: when that leaves them in the
    order the other side has; otherwise by hand."""
    changes = []
    for direction, old, new, _ in catalogs.directions(before, after):
        assert old is not None and new is not None
        statements = _attribute_changes(list(old["attributes"]), list(new["attributes"]))
        if statements is None:
            catalogs.by_hand("type", key)
            return
        changes += [(direction, f"ALTER TYPE {key} {', '.join(statements)};")]
    for direction, sql in changes:
        yield direction, Change("composite", True, sql)


def _attribute_changes(old: list[str], new: list[str]) -> list[str] | None:
    def split(attributes: list[str]) -> dict[str, str]:
        # "name type": a name is quoted when it has a space, so the first unquoted space ends it
        return dict(_split_attribute(a) for a in attributes)

    before, after = split(old), split(new)
    kept = [name for name in before if name in after]
    if kept + [name for name in after if name not in before] != list(after):
        return None
    return ([f"DROP ATTRIBUTE {name}" for name in before if name not in after]
            + [f"ALTER ATTRIBUTE {name} TYPE {after[name]}" for name in kept
               if before[name] != after[name]]
            + [f"ADD ATTRIBUTE {name} {after[name]}" for name in after if name not in before])


def _split_attribute(text: str) -> tuple[str, str]:
    inside = False
    for index, char in enumerate(text):
        if char == '"':
            inside = not inside
        elif char == " " and not inside:
            return text[:index], text[index + 1:]
    return text, ""
