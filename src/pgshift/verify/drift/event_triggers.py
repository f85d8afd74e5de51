"""Event triggers (``CREATE EVENT TRIGGER``): made, dropped, or dropped and made again with
another event, function or tags, and whether they are enabled (``ALTER EVENT TRIGGER``). They
are made after everything else in the file and dropped before it, so that they fire on none
of the migration's own statements."""

from __future__ import annotations

from pgshift.recipes.model import ident
from pgshift.verify.drift.change import (
    Catalogs,
    Change,
    Found,
    State,
    differing,
    enabled_as,
    quoted,
)


def event_triggers(catalogs: Catalogs) -> Found:
    for key, before, after in catalogs.pairs("event trigger"):
        name = ident(key)
        if before is not None and after is not None and differing(before, after) == ["enabled"]:
            for direction, state in (("up", after), ("down", before)):
                yield direction, Change("event trigger", True, f"ALTER EVENT TRIGGER {name} "
                                        f"{enabled_as(state['enabled'])};")
            continue
        for direction, old, new, _ in catalogs.directions(before, after):
            if old is not None:
                yield direction, Change("event trigger", False, f"DROP EVENT TRIGGER {name};")
            if new is not None:
                yield direction, Change("event trigger", True, _create(name, new),
                                        (("event trigger", key),))
                if new["enabled"] != "O":
                    yield direction, Change("event trigger", True, f"ALTER EVENT TRIGGER {name} "
                                            f"{enabled_as(new['enabled'])};")


def _create(name: str, state: State) -> str:
    tags = state.get("tags")
    when = f" WHEN TAG IN ({', '.join(map(quoted, tags))})" if tags else ""
    return (f"CREATE EVENT TRIGGER {name} ON {state['event']}{when} "
            f"EXECUTE FUNCTION {state['function']}();")
