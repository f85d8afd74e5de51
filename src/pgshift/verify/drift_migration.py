"""A migration that captures schema drift: what was changed by hand, written as up and down SQL.

``validate --schema-drift`` names each difference between the database and what its applied
migrations make. ``create NAME --from-drift`` writes them as the next migration: its up part
makes the migrations' schema what the database has, its down part undoes that. The database it
was read from already has the change, so it records the file with ``baseline``; every other
environment applies it with ``up``, and all of them end the same.

What is written, from the two catalog snapshots (``pgshift.verify.snapshot``):

- schemas, extensions, enum types (made, dropped, values added or renamed), domains (with
  their defaults, NOT NULL and CHECK constraints), sequences, tables
  (plain ones), columns (type, default, NOT NULL), constraints (with their validity), indexes
  (built and dropped ``CONCURRENTLY``, so the file is ``no-transaction``), functions and
  procedures, views, triggers (and whether they are enabled), comments;
- in dependency order: the up part drops before it creates, and creates schemas, extensions,
  types, sequences, tables, columns, constraints, indexes, functions, views, triggers, then
  comments; the down part does the same the other way. PostgreSQL cannot remove a value from an
  enum: the down part says so in a comment and leaves the value.

Anything else (grants, other types, policies, an extension's new version, identity or generated
columns, partitioned tables) is a ``-- TODO`` line naming the difference, to write by hand. The
file is a draft to review like any migration: ``lint`` and ``verify`` check it as they check
the rest.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from pgshift.recipes.model import ident

if TYPE_CHECKING:
    from pgshift.verify.schema_drift import SchemaDrift
    from pgshift.verify.snapshot import Snapshot

# The order a change is made in; a drop runs in the reverse order.
_CREATE_ORDER = ("schema", "extension", "type", "sequence", "table", "column", "constraint",
                 "index", "function", "view", "trigger", "comment")
# What is read but never written: each difference there is a TODO line.
_BY_HAND = ("policy",)
# Attributes written with a new table, column, function: others make a TODO line.
_WRITTEN = {"table": {"kind", "persistence", "definition", "partition_key", "partition_bound",
                      "comment"},
            "column": {"position", "type", "not_null", "default", "identity", "generated",
                       "collation", "comment"},
            "function": {"kind", "definition", "comment"}}
_COMMENT_ON = {"r": "TABLE", "p": "TABLE", "f": "FOREIGN TABLE", "v": "VIEW",
               "m": "MATERIALIZED VIEW"}
_TRIGGER_STATES = {"O": "ENABLE", "D": "DISABLE", "R": "ENABLE REPLICA", "A": "ENABLE ALWAYS"}


@dataclass(frozen=True)
class DriftMigration:
    """The SQL of a migration capturing the drift, and what it could not write."""

    up: list[str] = field(default_factory=list)
    down: list[str] = field(default_factory=list)
    todo: list[str] = field(default_factory=list)
    concurrent: bool = False

    @property
    def empty(self) -> bool:
        return not (self.up or self.todo)

    def text(self, header: str) -> str:
        """The migration file: directives, the up part, then ``-- pgshift:down``."""
        lines = ["-- pgshift:no-transaction"] if self.concurrent else []
        lines += [header, ""]
        lines += [f"-- TODO by hand: {item}" for item in self.todo]
        lines += [*self.up, "", "-- pgshift:down", *self.down]
        if not self.down:
            lines.append("-- nothing to undo")
        return "\n".join(lines) + "\n"


@dataclass(frozen=True)
class DriftCapture:
    """What ``api.create_from_drift`` wrote: the file, its SQL (and TODO lines), the drift."""

    path: Path
    migration: DriftMigration
    drift: SchemaDrift


@dataclass(frozen=True)
class _Change:
    kind: str  # one of _CREATE_ORDER
    create: bool  # makes something (ordered forwards) or drops it (ordered backwards)
    sql: str


def drift_migration(expected: Snapshot, actual: Snapshot) -> DriftMigration:
    """Up: from ``expected`` (after the migrations) to ``actual`` (the database); down: back."""
    up: list[_Change] = []
    down: list[_Change] = []
    todo: list[str] = []
    for found in (_schemas, _extensions, _types, _sequences, _tables, _columns, _constraints,
                  _indexes, _functions, _triggers, _comments):
        for change in found(expected, actual, todo):
            (up if change[0] == "up" else down).append(change[1])
    for category in ("table", "column", "function"):
        todo += _unwritten(expected, actual, category)
    from pgshift.verify.snapshot import diff_snapshots

    todo += diff_snapshots({c: expected.get(c, {}) for c in _BY_HAND},
                           {c: actual.get(c, {}) for c in _BY_HAND},
                           expected_name="after the migrations", actual_name="in the database")
    ordered_up, ordered_down = _ordered(up), _ordered(down)
    concurrent = any("CONCURRENTLY" in s for s in ordered_up + ordered_down)
    return DriftMigration(ordered_up, ordered_down, todo, concurrent)


def _ordered(changes: list[_Change]) -> list[str]:
    drops = sorted((c for c in changes if not c.create),
                   key=lambda c: -_CREATE_ORDER.index(c.kind))
    creates = sorted((c for c in changes if c.create), key=lambda c: _CREATE_ORDER.index(c.kind))
    return [c.sql for c in (*drops, *creates)]


Found = Iterator[tuple[str, _Change]]


def _pairs(expected: Snapshot, actual: Snapshot, category: str
           ) -> Iterator[tuple[str, dict[str, Any] | None, dict[str, Any] | None]]:
    want, have = expected.get(category, {}), actual.get(category, {})
    for key in sorted(want.keys() | have.keys()):
        if want.get(key) != have.get(key):
            yield key, want.get(key), have.get(key)


def _schemas(expected: Snapshot, actual: Snapshot, todo: list[str]) -> Found:
    for key, before, after in _pairs(expected, actual, "schema"):
        state = after if before is None else before if after is None else None
        if state is None or state.get("grants") or state.get("comment") is not None:
            todo += _by_hand(expected, actual, "schema", key)
            continue
        create = _Change("schema", True, f"CREATE SCHEMA {ident(key)};")
        drop = _Change("schema", False, f"DROP SCHEMA {ident(key)};")
        yield "up", create if after is not None else drop
        yield "down", drop if after is not None else create


def _extensions(expected: Snapshot, actual: Snapshot, todo: list[str]) -> Found:
    for key, before, after in _pairs(expected, actual, "extension"):
        if before is not None and after is not None:  # another version or schema
            todo += _by_hand(expected, actual, "extension", key)
            continue
        state = after if after is not None else before
        assert state is not None
        create = _Change("extension", True,
                         f"CREATE EXTENSION IF NOT EXISTS {ident(key)} WITH SCHEMA "
                         f"{ident(state['schema'])} VERSION {_quoted(state['version'])};")
        drop = _Change("extension", False, f"DROP EXTENSION {ident(key)};")
        yield "up", create if after is not None else drop
        yield "down", drop if after is not None else create


def _types(expected: Snapshot, actual: Snapshot, todo: list[str]) -> Found:
    """Enum types made or dropped, and enum values added or renamed; other types by hand."""
    for key, before, after in _pairs(expected, actual, "type"):
        states = [s for s in (before, after) if s is not None]
        if all(s.get("kind") == "d" and not s.get("grants") for s in states):
            yield from _domain(key, before, after, expected, actual, todo)
        elif any(s.get("kind") != "e" or s.get("grants") for s in states):
            todo += _by_hand(expected, actual, "type", key)
        elif before is None or after is None:
            state = after if after is not None else before
            assert state is not None
            create = _Change("type", True, f"CREATE TYPE {key} AS ENUM ({_labels(state)});")
            drop = _Change("type", False, f"DROP TYPE {key};")
            yield "up", create if after is not None else drop
            yield "down", drop if after is not None else create
        else:
            changes = _enum_changes(key, list(before["labels"]), list(after["labels"]))
            if changes is None:
                todo += _by_hand(expected, actual, "type", key)
                continue
            for direction, sql in changes:
                yield direction, _Change("type", True, sql)


def _domain(key: str, before: dict[str, Any] | None, after: dict[str, Any] | None,
            expected: Snapshot, actual: Snapshot, todo: list[str]) -> Found:
    """A domain made, dropped, or given another default or NOT NULL (its CHECK constraints
    are constraints: ``_constraints``)."""
    if before is None or after is None:
        state = after if after is not None else before
        assert state is not None
        spec = state["base_type"]
        if state.get("default") is not None:
            spec += f" DEFAULT {state['default']}"
        if state.get("not_null"):
            spec += " NOT NULL"
        create = _Change("type", True, f"CREATE DOMAIN {key} AS {spec};")
        drop = _Change("type", False, f"DROP DOMAIN {key};")
        yield "up", create if after is not None else drop
        yield "down", drop if after is not None else create
        return
    if before["base_type"] != after["base_type"]:
        todo += _by_hand(expected, actual, "type", key)
        return
    for direction, old, new in (("up", before, after), ("down", after, before)):
        if old.get("default") != new.get("default"):
            yield direction, _Change("type", True, f"ALTER DOMAIN {key} " + (
                f"SET DEFAULT {new['default']};" if new.get("default") is not None
                else "DROP DEFAULT;"))
        if old.get("not_null") != new.get("not_null"):
            yield direction, _Change("type", True, f"ALTER DOMAIN {key} "
                                     f"{'SET' if new.get('not_null') else 'DROP'} NOT NULL;")


def _enum_changes(key: str, old: list[str], new: list[str]) -> list[tuple[str, str]] | None:
    """Values added (the old ones keep their order) or renamed in place; None for the rest."""
    if len(old) == len(new):
        return [change for a, b in zip(old, new, strict=True) if a != b for change in (
            ("up", f"ALTER TYPE {key} RENAME VALUE {_quoted(a)} TO {_quoted(b)};"),
            ("down", f"ALTER TYPE {key} RENAME VALUE {_quoted(b)} TO {_quoted(a)};"))]
    if len(old) > len(new) or [v for v in new if v in old] != old:
        return None
    changes = []
    for index, value in enumerate(new):
        if value in old:
            continue
        place = (f" BEFORE {_quoted(new[index + 1])}" if index + 1 < len(new)
                 and new[index + 1] in old else f" AFTER {_quoted(new[index - 1])}"
                 if index > 0 else "")
        changes.append(("up", f"ALTER TYPE {key} ADD VALUE {_quoted(value)}{place};"))
        changes.append(("down", f"-- PostgreSQL cannot remove a value from an enum: {key} "
                                f"keeps {_quoted(value)}"))
    return changes


def _labels(state: dict[str, Any]) -> str:
    return ", ".join(_quoted(label) for label in state["labels"])


def _quoted(text: str) -> str:
    return "'" + text.replace("'", "''") + "'"


def _by_hand(expected: Snapshot, actual: Snapshot, category: str, key: str) -> list[str]:
    """The readable difference of one object, as a TODO line."""
    from pgshift.verify.snapshot import diff_snapshots

    def one(snapshot: Snapshot) -> Snapshot:
        found = snapshot.get(category, {}).get(key)
        return {category: {} if found is None else {key: found}}

    return diff_snapshots(one(expected), one(actual), expected_name="after the migrations",
                          actual_name="in the database")


def _sequences(expected: Snapshot, actual: Snapshot, todo: list[str]) -> Found:
    for key, before, after in _pairs(expected, actual, "sequence"):
        if before is not None and after is not None:
            todo.append(f"sequence {key}: its settings differ ({_differing(before, after)})")
            continue
        state = after if after is not None else before
        assert state is not None
        if state.get("grants"):
            todo.append(f"sequence {key}: its grants")
        create = [_Change("sequence", True, _create_sequence(key, state))]
        if state.get("owned_by"):  # once its table exists
            create.append(_Change("column", True,
                                  f"ALTER SEQUENCE {key} OWNED BY {state['owned_by']};"))
        drop = _Change("sequence", False, f"DROP SEQUENCE IF EXISTS {key};")  # or with its table
        for change in create:
            yield ("up" if after is not None else "down"), change
        yield ("down" if after is not None else "up"), drop


def _tables(expected: Snapshot, actual: Snapshot, todo: list[str]) -> Found:
    for key, before, after in _pairs(expected, actual, "table"):
        states = [s for s in (before, after) if s is not None]
        kinds = {s["kind"] for s in states}
        if kinds == {"v"} and not any(s.get("grants") for s in states):
            if before is None or after is None or before["definition"] != after["definition"]:
                yield from _view(key, before, after)
        elif before is not None and after is not None:
            differing = _differing(before, after, but=("comment",))
            if differing:
                todo.append(f"table {key}: its settings differ ({differing})")
        elif kinds == {"r"}:
            columns = actual if after is not None else expected
            create = _Change("table", True, _create_table(key, columns))
            drop = _Change("table", False, f"DROP TABLE {key};")
            yield ("up", create) if after is not None else ("up", drop)
            yield ("down", drop) if after is not None else ("down", create)
        else:
            todo.append(f"{_what_table(states[0])} {key}: "
                        f"{'only in the database' if after else 'dropped from the database'}")


def _view(key: str, before: dict[str, Any] | None, after: dict[str, Any] | None) -> Found:
    """A changed view is dropped first and made last: CREATE OR REPLACE cannot take a column
    away, and the columns it reads may change in between."""
    drop = _Change("view", False, f"DROP VIEW {key};")
    for direction, old, new in (("up", before, after), ("down", after, before)):
        if old is not None:
            yield direction, drop
        if new is not None:
            yield direction, _Change("view", True, f"CREATE VIEW {key} AS\n{new['definition']}")


def _columns(expected: Snapshot, actual: Snapshot, todo: list[str]) -> Found:
    tables = {"up": actual.get("table", {}), "down": expected.get("table", {})}
    for key, before, after in _pairs(expected, actual, "column"):
        table, column = _table_and_name(key)
        new_table = table not in expected.get("table", {})
        gone_table = table not in actual.get("table", {})
        if new_table or gone_table:
            continue  # made or dropped with its table
        if table in tables["up"] and tables["up"][table]["kind"] != "r":
            continue  # a view's columns follow its definition
        states = [s for s in (before, after) if s is not None]
        if any(s.get("identity") or s.get("generated") for s in states):
            todo.append(f"column {key}: an identity or generated column")
            continue
        if before is None or after is None:
            assert states
            add = _Change("column", True,
                          f"ALTER TABLE {table} ADD COLUMN {column} {_column_spec(states[0])};")
            drop = _Change("column", False, f"ALTER TABLE {table} DROP COLUMN {column};")
            yield ("up", add) if after is not None else ("up", drop)
            yield ("down", drop) if after is not None else ("down", add)
            continue
        for direction, old, new in (("up", before, after), ("down", after, before)):
            for statement in _alter_column(table, column, old, new, todo if direction == "up"
                                           else [], key):
                # A default dropped goes with the drops: before the sequence it used goes.
                yield direction, _Change("column", not statement.endswith(" DROP DEFAULT;"),
                                         statement)


def _alter_column(table: str, column: str, old: dict[str, Any], new: dict[str, Any],
                  todo: list[str], key: str) -> Iterator[str]:
    alter = f"ALTER TABLE {table} ALTER COLUMN {column}"
    if old["type"] != new["type"] or old.get("collation") != new.get("collation"):
        collate = f" COLLATE {new['collation']}" if new.get("collation") else ""
        yield f"{alter} TYPE {new['type']}{collate};"
    if old.get("default") != new.get("default"):
        yield (f"{alter} SET DEFAULT {new['default']};" if new.get("default") is not None
               else f"{alter} DROP DEFAULT;")
    if old["not_null"] != new["not_null"]:
        yield f"{alter} {'SET' if new['not_null'] else 'DROP'} NOT NULL;"
    rest = {a for a in old.keys() | new.keys()
            if old.get(a) != new.get(a)} - {"type", "collation", "default", "not_null",
                                            "position", "comment"}
    if rest:
        todo.append(f"column {key}: {', '.join(sorted(rest))} differ")


def _constraints(expected: Snapshot, actual: Snapshot, todo: list[str]) -> Found:
    for key, before, after in _pairs(expected, actual, "constraint"):
        name, table = _constraint_name_and_table(key)
        if (before or after or {}).get("type") == "n":
            continue  # 18's NOT NULL constraints: the column's NOT NULL makes and drops them
        if name is None or table is None:
            todo.append(f"constraint {key}: not on a table")
            continue
        if _is_table(table, expected, actual):
            alter = f"ALTER TABLE {table}"
        elif _is_domain(table, expected, actual):
            alter = f"ALTER DOMAIN {table}"
        else:
            todo.append(f"constraint {key}: not on a table")
            continue

        def add(state: dict[str, Any], alter: str = alter, name: str = name) -> str:
            return f"{alter} ADD CONSTRAINT {name} {state['definition']};"

        drop = f"{alter} DROP CONSTRAINT {name};"
        if before is None or after is None:
            yield "up", _Change("constraint", after is not None,
                                add(after) if after is not None else drop)
            yield "down", _Change("constraint", before is not None,
                                  add(before) if before is not None else drop)
        elif (_strip_not_valid(before["definition"]) == _strip_not_valid(after["definition"])
              and before["valid"] != after["valid"] and after["valid"]):
            yield "up", _Change("constraint", True, f"{alter} VALIDATE CONSTRAINT {name};")
            yield "down", _Change("constraint", False, drop)
            yield "down", _Change("constraint", True, add(before))  # back NOT VALID: no scan
        else:
            yield "up", _Change("constraint", False, drop)
            yield "up", _Change("constraint", True, add(after))
            yield "down", _Change("constraint", False, drop)
            yield "down", _Change("constraint", True, add(before))


def _indexes(expected: Snapshot, actual: Snapshot, todo: list[str]) -> Found:
    owned = {_constraint_index(key) for snapshot in (expected, actual)
             for key, state in snapshot.get("constraint", {}).items()
             if state["type"] in ("p", "u", "x")}
    for key, before, after in _pairs(expected, actual, "index"):
        if key in owned:
            continue  # made and dropped with its constraint
        if after is not None and not after["valid"]:
            todo.append(f"index {key}: INVALID in the database (a failed concurrent build: "
                        "drop it, or build it again)")
            continue
        drop = _Change("index", False, f"DROP INDEX CONCURRENTLY {key};")
        if after is not None:
            yield "up", _Change("index", True, _concurrently(after["definition"]))
        if before is not None:
            yield "up", drop
            yield "down", _Change("index", True, _concurrently(before["definition"]))
        if after is not None:
            yield "down", drop


def _functions(expected: Snapshot, actual: Snapshot, todo: list[str]) -> Found:
    for key, before, after in _pairs(expected, actual, "function"):
        states = [s for s in (before, after) if s is not None]
        if before is not None and after is not None and (
                before.get("grants") != after.get("grants")):
            todo.append(f"function {key}: grants differ")
        if before is not None and after is not None and (
                before.get("definition") == after.get("definition")):
            continue  # only its comment or grants changed
        kind = "PROCEDURE" if states[0].get("kind") == "p" else "FUNCTION"
        drop = _Change("function", False, f"DROP {kind} {key};")
        yield "up", (_Change("function", True, _definition(after))
                     if after is not None else drop)
        yield "down", (_Change("function", True, _definition(before))
                       if before is not None else drop)


def _triggers(expected: Snapshot, actual: Snapshot, todo: list[str]) -> Found:
    del todo  # every trigger difference is written
    for key, before, after in _pairs(expected, actual, "trigger"):
        name, _, table = key.partition(" on ")
        drop = _Change("trigger", False, f"DROP TRIGGER {name} ON {table};")
        if (before is not None and after is not None
                and before["definition"] == after["definition"]):
            for direction, state in (("up", after), ("down", before)):
                yield direction, _Change("trigger", True, f"ALTER TABLE {table} "
                                         f"{_TRIGGER_STATES[state['enabled']]} TRIGGER {name};")
            continue
        for direction, old, new in (("up", before, after), ("down", after, before)):
            if old is not None:
                yield direction, drop
            if new is not None:
                yield direction, _Change("trigger", True, _definition(new))
                if new["enabled"] != "O":
                    yield direction, _Change("trigger", True, f"ALTER TABLE {table} "
                                             f"{_TRIGGER_STATES[new['enabled']]} TRIGGER {name};")


def _comments(expected: Snapshot, actual: Snapshot, todo: list[str]) -> Found:
    """A comment set, changed or removed by hand; and those of what is made again."""
    del todo
    tables = {**expected.get("table", {}), **actual.get("table", {})}
    for category in ("table", "column", "function"):
        for key, before, after in _pairs(expected, actual, category):
            for direction, old, new in (("up", before, after), ("down", after, before)):
                if new is None:
                    continue
                changed = (old or {}).get("comment") != new.get("comment")
                remade = (category == "table" and old is not None and new.get("kind") == "v"
                          and old["definition"] != new["definition"])  # a view made again
                if not changed and not (remade and new.get("comment") is not None):
                    continue
                if category == "table":
                    what = _COMMENT_ON.get(str(new.get("kind")), "TABLE")
                elif category == "column":
                    what = "COLUMN"
                    if tables.get(_table_and_name(key)[0], {}).get("kind") == "v" and (
                            old is None):
                        continue  # a view made again: its columns come with it
                else:
                    what = "PROCEDURE" if new.get("kind") == "p" else "FUNCTION"
                text = new.get("comment")
                literal = "NULL" if text is None else "'" + str(text).replace("'", "''") + "'"
                yield direction, _Change("comment", True, f"COMMENT ON {what} {key} IS {literal};")


def _unwritten(expected: Snapshot, actual: Snapshot, category: str) -> list[str]:
    """What a new (or dropped) table, column or function has that is not written with it."""
    lines = []
    for key, before, after in _pairs(expected, actual, category):
        if before is not None and after is not None:
            continue  # changes: said where they are handled
        state = after if after is not None else before
        assert state is not None
        extra = sorted(a for a, v in state.items()
                       if a not in _WRITTEN[category] and v not in (None, [], False))
        if category == "table" and state.get("persistence") not in (None, "p"):
            extra.append("persistence")
        if extra:
            lines.append(f"{category} {key}: {', '.join(extra)} not written")
    return lines


def _create_sequence(key: str, state: dict[str, Any]) -> str:
    cycle = " CYCLE" if state.get("cycle") else ""
    return (f"CREATE SEQUENCE {key} AS {state['type']} INCREMENT {state['increment']} "
            f"MINVALUE {state['min']} MAXVALUE {state['max']} START {state['start']} "
            f"CACHE {state['cache']}{cycle};")


# -- SQL text -----------------------------------------------------------------------------------


def _create_table(key: str, snapshot: Snapshot) -> str:
    prefix = key + "."
    columns = sorted(((k[len(prefix):], v) for k, v in snapshot.get("column", {}).items()
                      if k.startswith(prefix) and "." not in k[len(prefix):].strip('"')),
                     key=lambda item: item[1]["position"])
    body = ",\n".join(f"    {name} {_column_spec(state)}" for name, state in columns)
    return f"CREATE TABLE {key} (\n{body}\n);" if body else f"CREATE TABLE {key} ();"


def _column_spec(state: dict[str, Any]) -> str:
    spec = state["type"]
    if state.get("collation"):
        spec += f" COLLATE {state['collation']}"
    if state.get("default") is not None:
        spec += f" DEFAULT {state['default']}"
    if state.get("not_null"):
        spec += " NOT NULL"
    return spec


def _concurrently(definition: str) -> str:
    """``CREATE [UNIQUE] INDEX name ON …`` as its CONCURRENTLY form."""
    head, _, rest = definition.partition(" INDEX ")
    return f"{head} INDEX CONCURRENTLY {rest};"


def _definition(state: dict[str, Any]) -> str:
    text = str(state["definition"]).rstrip()
    return text if text.endswith(";") else text + ";"


def _strip_not_valid(definition: str) -> str:
    return definition.removesuffix(" NOT VALID")


def _differing(before: dict[str, Any], after: dict[str, Any], but: tuple[str, ...] = ()) -> str:
    return ", ".join(sorted(a for a in before.keys() | after.keys()
                            if before.get(a) != after.get(a) and a not in but))


def _what_table(state: dict[str, Any]) -> str:
    return {"r": "table", "p": "partitioned table", "v": "view", "m": "materialized view",
            "f": "foreign table"}.get(str(state.get("kind")), "relation")


def _is_domain(name: str, expected: Snapshot, actual: Snapshot) -> bool:
    states = [s.get("type", {}).get(name) for s in (expected, actual)]
    return any(state is not None and state["kind"] == "d" for state in states)


def _is_table(table: str, expected: Snapshot, actual: Snapshot) -> bool:
    states = [s.get("table", {}).get(table) for s in (expected, actual)]
    return any(state is not None and state["kind"] == "r" for state in states)


# -- names --------------------------------------------------------------------------------------


def _identifiers(text: str) -> list[str]:
    """``a."b.c".d`` -> ``['a', '"b.c"', 'd']``: dotted parts, each as it is quoted."""
    parts, current, quoted = [], "", False
    for char in text:
        if char == '"':
            quoted = not quoted  # a doubled quote toggles twice: still inside
        if char == "." and not quoted:
            parts.append(current)
            current = ""
        else:
            current += char
    parts.append(current)
    return parts


def _table_and_name(key: str) -> tuple[str, str]:
    """A column's key ``schema.table.column`` -> (``schema.table``, ``column``)."""
    *table, name = _identifiers(key)
    return ".".join(table), name


def _constraint_name_and_table(key: str) -> tuple[str | None, str | None]:
    """``schema.name on table`` -> (``name``, ``table``); ``table`` as regclass prints it."""
    head, sep, table = key.partition(" on ")
    parts = _identifiers(head)
    if not sep or len(parts) != 2:
        return None, None
    return parts[1], _qualified(parts[0], table)


def _qualified(schema: str, table: str) -> str:
    """The table's name with its schema: regclass leaves out a schema on the search_path."""
    return table if len(_identifiers(table)) > 1 else f"{schema}.{table}"


def _constraint_index(key: str) -> str:
    """The index a constraint's key would have: ``schema.name``."""
    head = key.partition(" on ")[0]
    return head
