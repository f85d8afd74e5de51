"""Tables, partitions, views and columns.

- A table is made with its columns (identity and generated ones too), UNLOGGED when it is,
  with its row security; a partitioned one with its PARTITION BY. A partition is made as
  PARTITION OF its parent, after it (and dropped before it), with the defaults and NOT NULLs it
  has apart from its parent's. A child of plain inheritance, a materialized view, a foreign
  table, and another table's settings are TODO lines. Its replica identity:
  ``drift.replication``.
- Views: ``pgshift.verify.drift.views``.
- A column's type, collation, default, NOT NULL, statistics target, storage and compression
  (``drift.storage``); its identity added (with its sequence's name and settings, and the
  sequence moved past the values the rows have), dropped, or made ALWAYS or BY DEFAULT; a
  generated column's expression set (SET EXPRESSION, PostgreSQL 17+) or dropped (DROP
  EXPRESSION, a STORED one). What cannot be changed in place (an expression before 17, a
  column that becomes generated, STORED that becomes VIRTUAL) drops the column and adds it
  again, saying so in a comment, unless an index, constraint, trigger, policy, view or
  generated column reads it: then it is a TODO line.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import TYPE_CHECKING

from pgshift.verify.drift.change import (
    Catalogs,
    Change,
    Found,
    Made,
    State,
    columns_of,
    differing,
    quoted,
    sequence_options,
    table_and_name,
)
from pgshift.verify.drift.kinds import HANDLED
from pgshift.verify.drift.not_null import add_not_null, constraint_of
from pgshift.verify.drift.policies import row_security
from pgshift.verify.drift.storage import column_settings

if TYPE_CHECKING:
    from pgshift.verify.snapshot import Snapshot

_KIND_NAMES = {"r": "table", "p": "partitioned table", "v": "view", "m": "materialized view",
               "f": "foreign table"}
# Column attributes ``_alter_column`` writes; another that differs is a TODO line.
_ALTERED = {"type", "collation", "default", "not_null", "identity", "generated", "position",
            "statistics_target", "storage", "compression", "comment", "grants"}


def tables(catalogs: Catalogs) -> Found:
    partitions: list[tuple[int, str, Change]] = []
    for key, before, after in catalogs.pairs("table"):
        kinds = {s["kind"] for s in (before, after) if s is not None}
        if kinds == {"v"}:
            continue  # drift.views
        if before is not None and after is not None:
            rest = [a for a in differing(before, after, (
                "comment", "grants", "row_security", "force_row_security", "replica_identity",
                "replica_index")) if a in HANDLED["table"]]  # others: drift.kinds
            if rest:
                catalogs.todo.append(f"{_what(after)} {key}: its settings differ "
                                     f"({', '.join(rest)})")
        else:
            for direction, change in _made_or_dropped(catalogs, key, before, after):
                if change.kind == "partition":
                    partitions.append((_depth(catalogs, key), direction, change))
                else:
                    yield direction, change
    # A partition is made after its parent and dropped before it: the shallowest made first.
    for _, direction, change in sorted(partitions, key=lambda p: p[0] if p[2].create else -p[0]):
        yield direction, change


def _made_or_dropped(catalogs: Catalogs, key: str, before: State | None, after: State | None
                     ) -> Found:
    state = after if after is not None else before
    snapshot = catalogs.actual if after is not None else catalogs.expected
    assert state is not None
    partition = state.get("partition_bound") is not None
    if state["kind"] not in ("r", "p") or (state.get("inherits") and not partition):
        where = "only in the database" if after is not None else "dropped from the database"
        parents = (f" (inherits from {', '.join(state['inherits'])})"
                   if state.get("inherits") else "")
        catalogs.todo.append(f"{_what(state)} {key}: {where}{parents}")
        return
    kind = "partition" if partition else "table"
    made: Made = (("table", key), *(m for name, _ in columns_of(snapshot, key)
                                    for m in _column_made(snapshot, f"{key}.{name}")))
    creates = [Change(kind, True, _create_table(key, state, snapshot), made)]
    creates += [Change(kind, True, sql) for sql in row_security(key, None, state)]
    creates += [Change(kind, True, sql) for name, column in columns_of(snapshot, key)
                if not partition for sql in column_settings(key, name, None, column)]
    if partition:
        creates += [Change(kind, True, sql) for sql in _apart_from_parent(catalogs, key, state,
                                                                          snapshot)]
    drop = Change(kind, False, f"DROP TABLE {key};", reads=creates[0].sql)
    for change in creates:
        yield ("up" if after is not None else "down"), change
    yield ("down" if after is not None else "up"), drop


def _create_table(key: str, state: State, snapshot: Snapshot) -> str:
    unlogged = "UNLOGGED " if state.get("persistence") == "u" else ""
    if state.get("partition_bound") is not None:
        sql = (f"CREATE {unlogged}TABLE {key} PARTITION OF {state['inherits'][0]} "
               f"{state['partition_bound']}")
    else:
        body = ",\n".join(f"    {name} {column_spec(column, snapshot, f'{key}.{name}')}"
                          for name, column in columns_of(snapshot, key))
        sql = f"CREATE {unlogged}TABLE {key} (\n{body}\n)" if body else (
            f"CREATE {unlogged}TABLE {key} ()")
    if state.get("partition_key"):
        sql += f" PARTITION BY {state['partition_key']}"
    return sql + ";"


def _apart_from_parent(catalogs: Catalogs, key: str, state: State, snapshot: Snapshot
                       ) -> list[str]:
    """A partition's columns take their parent's defaults and NOT NULLs: what it has apart."""
    parent = state["inherits"][0]
    statements = []
    for name, column in columns_of(snapshot, key):
        inherited = snapshot.get("column", {}).get(f"{parent}.{name}")
        if inherited is None:
            continue
        rest = differing(inherited, column, ("position", "comment", "grants", "default",
                                             "not_null", "statistics_target", "storage",
                                             "compression"))
        if rest:
            catalogs.todo.append(f"column {key}.{name}: {', '.join(rest)} differ from its "
                                 f"parent's")
            continue
        # It is made with its parent's compression as it is then, which a SET COMPRESSION of
        # the parent in the same file does not change (it never recurses): said outright.
        parents = [s.get("column", {}).get(f"{parent}.{name}", {}).get("compression")
                   for s in (catalogs.expected, catalogs.actual)]
        if column.get("compression") or any(parents):
            inherited = {**inherited, "compression": "(its parent's)"}
        statements += [c.sql for c in _alter_column(catalogs, key, name, inherited, column,
                                                     snapshot, report=False)]
    return statements


def _depth(catalogs: Catalogs, key: str) -> int:
    tables = {**catalogs.expected.get("table", {}), **catalogs.actual.get("table", {})}
    depth, seen = 0, {key}
    while (parents := tables.get(key, {}).get("inherits")) and parents[0] not in seen:
        key = parents[0]
        seen.add(key)
        depth += 1
    return depth


def columns(catalogs: Catalogs) -> Found:
    kinds = {side: {k: v["kind"] for k, v in snapshot.get("table", {}).items()}
             for side, snapshot in (("expected", catalogs.expected), ("actual", catalogs.actual))}
    for key, before, after in catalogs.pairs("column"):
        table, column = table_and_name(key)
        if table not in kinds["expected"] or table not in kinds["actual"]:
            continue  # made or dropped with its table
        if {kinds["expected"][table], kinds["actual"][table]} - {"r", "p"}:
            continue  # a view's columns follow its definition
        if _inherited(catalogs, table, column, before, after):
            # A partition's (or child's) column follows its parent's, but for its compression:
            # SET COMPRESSION never recurses.
            if before is not None and after is not None and (
                    before.get("compression") != after.get("compression")):
                for direction, old, new, _ in catalogs.directions(before, after):
                    assert old is not None and new is not None
                    only = {**new, "compression": old.get("compression")}
                    for sql in column_settings(table, column, only, new):
                        yield direction, Change("column", True, sql)
            continue
        if before is None or after is None:
            state = after if after is not None else before
            snapshot = catalogs.actual if after is not None else catalogs.expected
            assert state is not None
            add = Change("column", True, f"ALTER TABLE {table} ADD COLUMN {column} "
                         f"{column_spec(state, snapshot, key)};", _column_made(snapshot, key))
            drop = Change("column", False, f"ALTER TABLE {table} DROP COLUMN {column};",
                          reads=str(state.get("default")))
            yield ("up", add) if after is not None else ("up", drop)
            yield ("down", drop) if after is not None else ("down", add)
            for sql in column_settings(table, column, None, state):
                yield ("up" if after is not None else "down"), Change("column", True, sql)
            continue
        for direction, old, new, snapshot in catalogs.directions(before, after):
            assert old is not None and new is not None
            for change in _alter_column(catalogs, table, column, old, new, snapshot,
                                        report=direction == "up"):
                yield direction, change


def _inherited(catalogs: Catalogs, table: str, column: str, before: State | None,
               after: State | None) -> bool:
    def plain(state: State | None) -> State | None:
        return None if state is None else {a: v for a, v in state.items() if a not in (
            "position", "comment", "grants", "compression")}

    parents = [set(s.get("table", {})[table].get("inherits") or ())
               for s in (catalogs.expected, catalogs.actual)]
    return any((plain(catalogs.expected.get("column", {}).get(f"{parent}.{column}")),
                plain(catalogs.actual.get("column", {}).get(f"{parent}.{column}")))
               == (plain(before), plain(after)) for parent in parents[0] & parents[1])


def _alter_column(catalogs: Catalogs, table: str, column: str, old: State, new: State,
                  snapshot: Snapshot, *, report: bool) -> Iterator[Change]:
    """From ``old`` to ``new``; ``report``: differences it cannot write become TODO lines
    (once: the up direction reports them)."""
    key = f"{table}.{column}"
    generated = old.get("generated"), new.get("generated")
    if any(generated) and (generated[0] != generated[1] or old.get("default") != new.get(
            "default")):
        yield from _generation(catalogs, table, column, old, new, snapshot, report=report)
        return
    alter = f"ALTER TABLE {table} ALTER COLUMN {column}"
    if old.get("identity") and not new.get("identity"):
        yield Change("column", False, f"{alter} DROP IDENTITY;")  # before its NOT NULL goes
    if old["type"] != new["type"] or old.get("collation") != new.get("collation"):
        collate = f" COLLATE {new['collation']}" if new.get("collation") else ""
        yield Change("column", True, f"{alter} TYPE {new['type']}{collate};")
    if old.get("default") != new.get("default"):
        if new.get("default") is None:
            # With the drops: before the sequence it used goes.
            yield Change("column", False, f"{alter} DROP DEFAULT;", reads=str(old["default"]))
        else:
            yield Change("column", True, f"{alter} SET DEFAULT {new['default']};")
    if old["not_null"] != new["not_null"]:
        named = constraint_of(snapshot, table, column) if new["not_null"] else None
        yield Change("column", True, add_not_null(table, column, named) if named else
                     f"{alter} {'SET' if new['not_null'] else 'DROP'} NOT NULL;")
    if new.get("identity") and not old.get("identity"):  # once NOT NULL, without a default
        yield Change("column", True, f"{alter} ADD {_identity(new, snapshot, key)};",
                     _column_made(snapshot, key)[1:])
        found = identity_sequence(snapshot, key)
        if found is not None and int(found[1]["increment"]) > 0:
            # The rows keep their values: the sequence goes on after the largest one.
            yield Change("column", True, f"SELECT setval({quoted(found[0])}, max({column})) "
                         f"FROM {table} HAVING max({column}) >= {found[1]['start']};")
    elif new.get("identity") and new["identity"] != old["identity"]:
        yield Change("column", True, f"{alter} SET GENERATED "
                     f"{'ALWAYS' if new['identity'] == 'a' else 'BY DEFAULT'};")
    for sql in column_settings(table, column, old, new):  # after its TYPE
        yield Change("column", True, sql)
    rest = [a for a in differing(old, new, tuple(_ALTERED)) if a in HANDLED["column"]]
    if rest and report:
        catalogs.todo.append(f"column {key}: {', '.join(rest)} differ")


def _generation(catalogs: Catalogs, table: str, column: str, old: State, new: State,
                snapshot: Snapshot, *, report: bool) -> Iterator[Change]:
    """A generated column's expression or kind changed, or a column became (or stopped
    being) generated."""
    alter = f"ALTER TABLE {table} ALTER COLUMN {column}"
    before, after = old.get("generated"), new.get("generated")
    major = catalogs.major or 0
    if before == after and major >= 17:
        yield Change("column", True, f"{alter} SET EXPRESSION AS ({new['default']});")
        yield from _alter_column(catalogs, table, column, {**old, "default": new["default"]},
                                 new, snapshot, report=report)
        return
    if before == "s" and after is None:  # the values stay, as a plain column's
        yield Change("column", False, f"{alter} DROP EXPRESSION;",
                     reads=str(old.get("default")))
        yield from _alter_column(catalogs, table, column, {**old, "default": None,
                                                           "generated": None},
                                 new, snapshot, report=report)
        return
    key = f"{table}.{column}"
    readers = _readers(catalogs, table, column)
    if readers:
        if report:
            catalogs.todo.append(f"column {key}: its generation differs, and it cannot change "
                                 f"in place; {', '.join(readers)} would go with it if it were "
                                 "dropped and added again")
        return
    why = (f"PostgreSQL {major or 'before 17'} cannot change a generated column's expression "
           "(17 can)" if before == after else
           f"a {_generation_name(before)} column cannot become {_generation_name(after)} in "
           "place")
    yield Change("column", False, f"-- {why}: {column} is dropped and added again, last\n"
                                  f"ALTER TABLE {table} DROP COLUMN {column};",
                 reads=str(old.get("default")))
    yield Change("column", True, f"ALTER TABLE {table} ADD COLUMN {column} "
                 f"{column_spec(new, snapshot, key)};", _column_made(snapshot, key))
    for sql in column_settings(table, column, None, new):
        yield Change("column", True, sql)


def _generation_name(generated: str | None) -> str:
    return {"s": "STORED generated", "v": "VIRTUAL generated"}.get(str(generated), "plain")


def _readers(catalogs: Catalogs, table: str, column: str) -> list[str]:
    """What reads the column, and would go with it (or stop its DROP): indexes, constraints,
    triggers and policies on its table, views, generated columns. A name found in their text
    counts, so a word that only looks like it does too."""
    quoted = column.startswith('"')
    word = re.compile(re.escape(column) if quoted else rf"(?<![\w$\"]){re.escape(column)}"
                                                        r"(?![\w$\"])")
    found = set()
    for snapshot in (catalogs.expected, catalogs.actual):
        for key, state in snapshot.get("index", {}).items():
            text = state["definition"].partition(" ON ")[2]
            if text.removeprefix("ONLY ").startswith(f"{table} ") and word.search(text):
                found.add(f"index {key}")
        for category, attribute in (("constraint", "definition"), ("trigger", "definition"),
                                    ("policy", "using"), ("policy", "with_check")):
            for key, state in snapshot.get(category, {}).items():
                if state.get("type") == "n":
                    continue  # 18's NOT NULL constraint: the column's own
                if key.endswith(f" on {table}") and word.search(str(state.get(attribute))):
                    found.add(f"{category} {key}")
        for key, state in snapshot.get("table", {}).items():
            if state.get("definition") and word.search(state["definition"]):
                found.add(f"{_what(state)} {key}")
        for key, state in snapshot.get("column", {}).items():
            if (key.startswith(f"{table}.") and key != f"{table}.{column}"
                    and state.get("generated") and word.search(str(state.get("default")))):
                found.add(f"column {key}")
    return sorted(found)


def column_spec(state: State, snapshot: Snapshot, key: str) -> str:
    spec = state["type"]
    if state.get("collation"):
        spec += f" COLLATE {state['collation']}"
    if state.get("generated"):
        spec += (f" GENERATED ALWAYS AS ({state['default']}) "
                 f"{'VIRTUAL' if state['generated'] == 'v' else 'STORED'}")
    elif state.get("identity"):
        spec += " " + _identity(state, snapshot, key)
    elif state.get("default") is not None:
        spec += f" DEFAULT {state['default']}"
    if state.get("not_null"):
        table, column = table_and_name(key)
        named = constraint_of(snapshot, table, column)  # 18's: by its name
        spec += f" CONSTRAINT {named[0]} NOT NULL" if named else " NOT NULL"
    return spec


def _identity(state: State, snapshot: Snapshot, key: str) -> str:
    """The identity clause, naming its sequence and its settings as the snapshot has them."""
    clause = f"GENERATED {'ALWAYS' if state['identity'] == 'a' else 'BY DEFAULT'} AS IDENTITY"
    found = identity_sequence(snapshot, key)
    if found is None:
        return clause
    name, sequence = found
    return f"{clause} (SEQUENCE NAME {name} {sequence_options(sequence)})"


def identity_sequence(snapshot: Snapshot, column: str) -> tuple[str, State] | None:
    """The sequence of an identity column: (its key, its state)."""
    if not snapshot.get("column", {}).get(column, {}).get("identity"):
        return None
    for key, state in snapshot.get("sequence", {}).items():
        if state.get("owned_by") == column:
            return key, state
    return None


def _column_made(snapshot: Snapshot, key: str) -> Made:
    found = identity_sequence(snapshot, key)
    return (("column", key), *((("sequence", found[0]),) if found else ()))


def _what(state: State) -> str:
    return _KIND_NAMES.get(str(state.get("kind")), "relation")
