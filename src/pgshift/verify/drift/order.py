"""The order a drift migration's statements run in: the up part (and the down part) drops before
it creates, and creates by kind (``CREATE_ORDER``); drops run in the reverse order.

Kind alone cannot order everything: a function may read a table (a SQL body is checked when it
is made), so functions come after tables; but an index, a CHECK, a column's default or
generated expression, a domain, a policy or statistics may call a function the same file makes.
So a routine the file makes goes just before the first statement that names it, wherever its
kind would put it, and a routine the file drops goes just after the last drop whose object
names it (``Change.reads``). Names are found in the statements' text, as the catalog prints
them (schema-qualified): a word that only looks like a routine's name moves it too, which is
harmless.
"""

from __future__ import annotations

import heapq
import re

from pgshift.verify.drift.change import Change

# A sequence is given to a column once the column exists, and taken from it before the column
# goes (or it would go with it). An owner changes before grants, which it moves to itself.
# Event triggers are made after the rest (and dropped before it), so that they fire on none of
# it; default privileges that give more than PostgreSQL's are set last, so that they give
# nothing to what the file makes (those that go back to PostgreSQL's run first, as drops:
# drift.default_privileges).
CREATE_ORDER = ("schema", "extension", "foreign data wrapper", "foreign server", "user mapping",
                "collation", "type", "domain", "composite", "sequence", "table", "partition",
                "column", "owned by", "constraint", "index", "cluster", "replica identity",
                "function", "aggregate", "view", "statistics", "trigger", "rule", "policy",
                "publication", "owner", "grant", "comment", "event trigger", "default privileges")
_ROUTINES = ("function", "aggregate")


def ordered(changes: list[Change]) -> list[str]:
    """The statements of one part, in the order they run."""
    drops = _sorted([c for c in changes if not c.create], create=False)
    creates = _sorted([c for c in changes if c.create], create=True)
    return [c.sql for c in (*drops, *creates)]


def _sorted(changes: list[Change], *, create: bool) -> list[Change]:
    """By kind, but each routine before what names it (made) or after it (dropped): a routine
    takes the place of the first statement that needs it, and then goes right before it."""
    rank = [CREATE_ORDER.index(c.kind) * (1 if create else -1) for c in changes]
    edges = _edges(changes, create=create)  # (a, b): a runs before b
    place = list(rank)
    moved = True
    while moved:  # a routine that another needs moves with it
        moved = False
        for a, b in edges:
            routine, other = (a, b) if create else (b, a)
            if (place[other] < place[routine]) if create else (place[other] > place[routine]):
                place[routine] = place[other]
                moved = True
    waiting = [0] * len(changes)
    follows: dict[int, list[int]] = {}
    for a, b in edges:
        waiting[b] += 1
        follows.setdefault(a, []).append(b)
    ready = [(place[i], rank[i], i) for i in range(len(changes)) if not waiting[i]]
    heapq.heapify(ready)
    done: list[int] = []
    left = set(range(len(changes)))
    while left:
        if not ready:  # a cycle (two routines that call each other): the first of them goes
            first = min((place[i], rank[i], i) for i in left if i in follows)
            waiting[first[2]] = 0
            ready.append(first)
        _, _, i = heapq.heappop(ready)
        if i not in left:
            continue
        left.discard(i)
        done.append(i)
        for b in follows.get(i, []):
            waiting[b] -= 1
            if waiting[b] == 0 and b in left:
                heapq.heappush(ready, (place[b], rank[b], b))
    return [changes[i] for i in done]


def _edges(changes: list[Change], *, create: bool) -> set[tuple[int, int]]:
    """(a, b) where a must run before b: a routine made before what names it, a routine
    dropped after what names it."""
    edges = set()
    for index, change in enumerate(changes):
        name = _routine(change)
        if name is None:
            continue
        word = re.compile(rf"(?<![\w$\".]){re.escape(name)}(?![\w$\"])")
        for other, reader in enumerate(changes):
            if other != index and word.search(reader.reads or reader.sql):
                edges.add((index, other) if create else (other, index))
    return edges


def _routine(change: Change) -> str | None:
    """The schema-qualified name of the routine a change makes or drops (a function made
    anew, not one replaced, which exists already)."""
    if change.kind not in _ROUTINES:
        return None
    if change.create:
        keys = [key for category, key in change.makes if category in _ROUTINES]
        return _name(keys[0]) if keys else None
    head, _, key = change.sql.partition(" ")[2].partition(" ")  # DROP FUNCTION key;
    return _name(key.removesuffix(";")) if head in ("FUNCTION", "PROCEDURE", "AGGREGATE") \
        else None


def _name(key: str) -> str:
    """``public."f(x)"(a integer)`` -> ``public."f(x)"``: the key up to its arguments."""
    inside = False
    for index, char in enumerate(key):
        if char == '"':
            inside = not inside
        elif char == "(" and not inside:
            return key[:index]
    return key
