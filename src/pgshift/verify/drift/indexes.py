"""Indexes, built and dropped CONCURRENTLY (so the file is ``no-transaction``), and which index
a table is clustered on.

One on a partitioned table is made ON ONLY it (at once, without building anything), each
partition's is built concurrently and then attached to it; dropping it drops its partitions'.
A constraint's index goes with its constraint (``drift.constraints``). An index INVALID in the
database (a failed concurrent build) and a partition's index that changed are TODO lines. An
index that differs only in being the one its table is clustered on is not built again: ALTER
TABLE … CLUSTER ON (or SET WITHOUT CLUSTER) says so, and so it does for an index made or built
again.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from pgshift.verify.drift.change import Catalogs, Change, Found, differing, identifiers
from pgshift.verify.drift.constraints import constraint_indexes

if TYPE_CHECKING:
    from pgshift.verify.snapshot import Snapshot


def indexes(catalogs: Catalogs) -> Found:
    owned = constraint_indexes(catalogs)
    attached: list[tuple[int, str, Change]] = []
    for key, before, after in catalogs.pairs("index"):
        if key in owned:
            continue  # made and dropped with its constraint
        if after is not None and not after["valid"]:
            catalogs.todo.append(f"index {key}: INVALID in the database (a failed concurrent "
                                 "build: drop it, or build it again)")
            continue
        if before is not None and after is not None:
            if not differing(before, after, ("clustered",)):
                continue  # only its clustering: clustering()
            if before.get("partition_of") or after.get("partition_of"):
                catalogs.by_hand("index", key)  # a partition's index cannot be dropped alone
                continue
        for direction, old, new, snapshot in catalogs.directions(before, after):
            if old is not None and not old.get("partition_of"):  # else: with its parent
                partitioned = " ON ONLY " in old["definition"]
                yield direction, Change("index", False, f"DROP INDEX "
                                        f"{'' if partitioned else 'CONCURRENTLY '}{key};",
                                        reads=old["definition"])
            if new is None or not _built_here(catalogs, key, snapshot, owned):
                continue
            yield direction, Change("index", True, _concurrently(new["definition"]))
            if new.get("partition_of"):
                depth = _index_depth(snapshot, key)
                attached.append((depth, direction, Change(
                    "index", True, f"ALTER INDEX {new['partition_of']} ATTACH PARTITION {key};")))
    # The deepest first: an index is valid once each of its partitions is, attached.
    for _, direction, change in sorted(attached, key=lambda item: -item[0]):
        yield direction, change


def clustering(catalogs: Catalogs) -> Found:
    """CLUSTER ON the index a table is clustered on where it becomes so, or where the index is
    made (or built again, which forgets it); SET WITHOUT CLUSTER where none is any more."""
    for key, before, after in catalogs.pairs("index"):
        if (after is not None and not after["valid"]) or (
                before is not None and after is not None and differing(
                    before, after, ("clustered",)) and (before.get("partition_of")
                                                        or after.get("partition_of"))):
            continue  # a TODO line of indexes()
        for direction, old, new, _ in catalogs.directions(before, after):
            rebuilt = old is not None and new is not None and bool(
                differing(old, new, ("clustered",)))
            if new is not None and new.get("clustered") and (
                    old is None or rebuilt or not old.get("clustered")):
                yield direction, Change("cluster", True, f"ALTER TABLE {_table_of(new)} "
                                        f"CLUSTER ON {identifiers(key)[-1]};")
            elif (old is not None and new is not None and old.get("clustered")
                  and not rebuilt):  # before another index of the table is clustered on
                yield direction, Change("cluster", False,
                                        f"ALTER TABLE {_table_of(new)} SET WITHOUT CLUSTER;")


def _table_of(state: dict) -> str:
    """The table in ``CREATE INDEX name ON [ONLY] table USING …``."""
    rest = str(state["definition"]).partition(" ON ")[2].removeprefix("ONLY ")
    return rest.partition(" USING ")[0]


def _built_here(catalogs: Catalogs, key: str, snapshot: Snapshot, owned: set[str]) -> bool:
    """Whether this direction builds the index: one on both sides (that changed) is built
    again; a partition's is not where its parent index (or a constraint's) is on the other side
    already, as the partition made while that exists gets its own with it."""
    other = catalogs.expected if snapshot is catalogs.actual else catalogs.actual
    if key in other.get("index", {}):
        return True  # dropped above, and built again
    while parent := snapshot.get("index", {}).get(key, {}).get("partition_of"):
        if parent in other.get("index", {}) or parent in owned:
            return False
        key = parent
    return True


def _index_depth(snapshot: Snapshot, key: str) -> int:
    depth = 0
    while (key := snapshot.get("index", {}).get(key, {}).get("partition_of")) and depth < 100:
        depth += 1
    return depth


def _concurrently(definition: str) -> str:
    """``CREATE [UNIQUE] INDEX name ON …`` as its CONCURRENTLY form; one ON ONLY a partitioned
    table as it is (it builds nothing, and cannot be made concurrently)."""
    if " ON ONLY " in definition:
        return definition + ";"
    head, _, rest = definition.partition(" INDEX ")
    return f"{head} INDEX CONCURRENTLY {rest};"
