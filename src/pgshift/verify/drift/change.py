"""What the parts of a drift migration share: a change (one statement and where it goes), the
two catalogs it goes between, and how names are read back from snapshot keys."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from pgshift.verify.snapshot import Snapshot

State = dict[str, Any]
Made = tuple[tuple[str, str], ...]


@dataclass(frozen=True)
class Change:
    """One statement: its kind orders it (``drift.order``), forwards when it makes or sets
    something, backwards when it drops something."""

    kind: str
    create: bool
    sql: str
    # (category, key) of what it makes: a made object gets its comment and grants afterwards.
    makes: Made = ()
    # A drop's: the text of what it drops (a definition, a default), so that it runs before a
    # routine it names is dropped (``drift.order``).
    reads: str = ""


# ("up" or "down", the change)
Found = Iterator[tuple[str, Change]]


@dataclass
class Catalogs:
    """The two snapshots: ``expected`` (after the migrations) and ``actual`` (the database), the
    server's major version (which statements it has; None: the oldest), and the TODO lines."""

    expected: Snapshot
    actual: Snapshot
    major: int | None = None
    todo: list[str] = field(default_factory=list)
    # (category, key) of objects whose owner the file changes (``drift.owners``).
    reowned: set[tuple[str, str]] = field(default_factory=set)

    def pairs(self, category: str) -> Iterator[tuple[str, State | None, State | None]]:
        """Each differing object of ``category``: (key, before, after), None where absent."""
        want, have = self.expected.get(category, {}), self.actual.get(category, {})
        for key in sorted(want.keys() | have.keys()):
            if want.get(key) != have.get(key):
                yield key, want.get(key), have.get(key)

    def directions(self, before: State | None, after: State | None
                   ) -> Iterator[tuple[str, State | None, State | None, Snapshot]]:
        """("up", before, after, actual), then ("down", after, before, expected)."""
        yield "up", before, after, self.actual
        yield "down", after, before, self.expected

    def by_hand(self, category: str, key: str) -> None:
        """The readable difference of one object, as a TODO line."""
        from pgshift.verify.snapshot import diff_snapshots

        def one(snapshot: Snapshot) -> Snapshot:
            found = snapshot.get(category, {}).get(key)
            return {category: {} if found is None else {key: found}}

        self.todo += diff_snapshots(one(self.expected), one(self.actual),
                                    expected_name="after the migrations",
                                    actual_name="in the database")


def quoted(text: str) -> str:
    return "'" + text.replace("'", "''") + "'"


def differing(before: State, after: State, but: tuple[str, ...] = ()) -> list[str]:
    return sorted(a for a in before.keys() | after.keys()
                  if before.get(a) != after.get(a) and a not in but)


def sequence_options(state: State) -> str:
    """A sequence's settings, as CREATE SEQUENCE and an identity column take them."""
    return (f"START WITH {state['start']} INCREMENT BY {state['increment']} "
            f"MINVALUE {state['min']} MAXVALUE {state['max']} CACHE {state['cache']} "
            f"{'' if state.get('cycle') else 'NO '}CYCLE")


def identifiers(text: str) -> list[str]:
    """``a."b.c".d`` -> ``['a', '"b.c"', 'd']``: dotted parts, each as it is quoted."""
    parts, current, inside = [], "", False
    for char in text:
        if char == '"':
            inside = not inside  # a doubled quote toggles twice: still inside
        if char == "." and not inside:
            parts.append(current)
            current = ""
        else:
            current += char
    parts.append(current)
    return parts


def table_and_name(key: str) -> tuple[str, str]:
    """A column's key ``schema.table.column`` -> (``schema.table``, ``column``)."""
    *table, name = identifiers(key)
    return ".".join(table), name


def columns_of(snapshot: Snapshot, table: str) -> list[tuple[str, State]]:
    """(name, state) of the table's columns, in their order."""
    prefix = table + "."
    return sorted(((k[len(prefix):], v) for k, v in snapshot.get("column", {}).items()
                   if k.startswith(prefix) and len(identifiers(k)) == len(identifiers(table)) + 1),
                  key=lambda item: item[1]["position"])


def definition(state: State) -> str:
    """An object's ``definition`` (as pg_get_*def prints it) as one statement."""
    text = str(state["definition"]).rstrip()
    return text if text.endswith(";") else text + ";"


def enabled_as(state: str) -> str:
    """How ALTER says a trigger's (rule's, event trigger's) ``enabled``: O, D, R or A."""
    return {"O": "ENABLE", "D": "DISABLE", "R": "ENABLE REPLICA", "A": "ENABLE ALWAYS"}[state]


def one_side(key: str, kind: str, before: State | None, after: State | None, create: str,
             drop: str, makes: Made = ()) -> Found:
    """Made where only ``after`` has it, dropped where only ``before`` does."""
    made, dropped = Change(kind, True, create, makes), Change(kind, False, drop)
    yield "up", made if after is not None else dropped
    yield "down", dropped if after is not None else made
