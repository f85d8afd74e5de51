"""A migration that captures schema drift: what was changed by hand, written as up and down SQL.

``validate --schema-drift`` names each difference between the database and what its applied
migrations make. ``create NAME --from-drift`` writes them as the next migration: its up part
makes the migrations' schema what the database has, its down part undoes that. The database it
was read from already has the change, so it records the file with ``baseline``; every other
environment applies it with ``up``, and all of them end the same.

What is written, from the two catalog snapshots (``pgshift.verify.snapshot``; each kind of
object in a module of ``pgshift.verify.drift``):

- schemas, extensions, types (enums and their values, domains with their defaults, NOT NULL
  and CHECK constraints, composite types and their attributes, range types), sequences and
  their settings, tables (plain, UNLOGGED, partitioned, and partitions made PARTITION OF their
  parent), columns (type, default, NOT NULL, identity, generated), constraints (with their
  validity), indexes (built and dropped ``CONCURRENTLY``, so the file is ``no-transaction``;
  on a partitioned table, made ON ONLY it with each partition's built concurrently and
  attached), functions and procedures, views, triggers (and whether they are enabled),
  row-level security (policies, and whether a table enables and forces it), grants (GRANT and
  REVOKE of the privileges that differ: ``drift.grants``) and comments;
- in dependency order: the up part drops before it creates, and creates schemas, extensions,
  types, sequences, tables, partitions, columns, constraints, indexes, functions, views,
  triggers, policies, then grants and comments; the down part does the same the other way.
  PostgreSQL cannot remove a value from an enum: the down part says so in a comment and leaves
  the value. A generated column whose expression changed is altered in place from PostgreSQL
  17 (the server the drift was read on); before, it is dropped and added again, and a comment
  says so.

A rename cannot be told from a drop and an add: where they look alike (a column of the same
type, a table with the same columns), a TODO line says to write the RENAME instead
(``drift.renames``).

Anything else (who owns an object, an extension's new version, a table's storage settings or
its inheritance, materialized views, foreign tables, a grant made by another role than the
owner, a generated column that something reads and that cannot change in place) is a
``-- TODO`` line naming the difference, to write by hand. The file is a draft to review like
any migration: ``lint`` and ``verify`` check it as they check the rest.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from pgshift.errors import InputError
from pgshift.recipes.model import ident
from pgshift.verify.drift.attributes import attributes
from pgshift.verify.drift.change import (
    Catalogs,
    Change,
    Found,
    State,
    differing,
    identifiers,
    quoted,
    sequence_options,
)
from pgshift.verify.drift.not_null import not_null_constraints
from pgshift.verify.drift.policies import policies
from pgshift.verify.drift.renames import note_renames
from pgshift.verify.drift.tables import columns, identity_sequence, tables
from pgshift.verify.drift.types import types
from pgshift.verify.drift.views import views

if TYPE_CHECKING:
    from pgshift.verify.schema_drift import SchemaDrift
    from pgshift.verify.snapshot import Snapshot

# The order a change is made in; a drop runs in the reverse order.
_CREATE_ORDER = ("schema", "extension", "type", "domain", "composite", "sequence", "table",
                 "partition", "column", "constraint", "index", "function", "view", "trigger",
                 "policy", "grant", "comment")
# Attributes written with a new table, column, function: others make a TODO line.
_WRITTEN = {"table": {"kind", "persistence", "definition", "partition_key", "partition_bound",
                      "inherits", "row_security", "force_row_security", "grants", "comment"},
            "column": {"position", "type", "not_null", "default", "identity", "generated",
                       "collation", "grants", "comment"},
            "function": {"kind", "definition", "grants", "comment"}}
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

    def files(self, header: str, flavor: str) -> tuple[str, str | None]:
        """The migration in ``flavor``'s files (see ``pgshift.migrations.flavors``): the up
        file's text, and the down file's where the flavor keeps the down part apart (Flyway's
        U file, golang-migrate's ``.down.sql``). InputError where the flavor cannot hold it."""
        if flavor == "pgshift":
            return self.text(header), None
        if self.concurrent and flavor in ("node-pg-migrate", "pgmigrate"):
            raise InputError(f"the drift needs statements that cannot run in a transaction "
                             f"(CONCURRENTLY), which a {flavor} file always runs in",
                             hint="write those statements in a migration of their own by hand")
        up = [header, "", *(f"-- TODO by hand: {item}" for item in self.todo), *self.up]
        down = self.down or ["-- nothing to undo"]
        if flavor == "dbmate":
            marker = " transaction:false" if self.concurrent else ""
            return "\n".join([header, "", f"-- migrate:up{marker}", *up[2:], "",
                              f"-- migrate:down{marker}", *down]) + "\n", None
        if flavor == "node-pg-migrate":
            return "\n".join(["-- Up Migration", *up, "", "-- Down Migration", *down]) + "\n", None
        if flavor == "pgmigrate":  # its files have no down part
            return "\n".join([*up, "", "-- Its down part, which pgmigrate cannot hold:",
                              *(f"-- {line}" for line in down)]) + "\n", None
        return "\n".join(up) + "\n", "\n".join(down) + "\n"  # flyway, golang-migrate


@dataclass(frozen=True)
class DriftCapture:
    """What ``api.create_from_drift`` wrote: the file, its SQL (and TODO lines), the drift."""

    path: Path
    migration: DriftMigration
    drift: SchemaDrift
    version: str = ""  # the version to give 'baseline' on the database it was read from


def drift_migration(expected: Snapshot, actual: Snapshot, major: int | None = None
                    ) -> DriftMigration:
    """Up: from ``expected`` (after the migrations) to ``actual`` (the database); down: back.
    ``major``: the server's major version (None: the statements every version has)."""
    catalogs = Catalogs(expected, actual, major)
    note_renames(catalogs)
    changes: dict[str, list[Change]] = {"up": [], "down": []}
    for found in (_schemas, _extensions, types, _sequences, tables, views, columns,
                  _constraints, not_null_constraints, _indexes, _functions, _triggers):
        for direction, change in found(catalogs):
            changes[direction].append(change)
    made = {direction: {m for change in found for m in change.makes}
            for direction, found in changes.items()}
    for direction, change in (*policies(catalogs, made), *attributes(catalogs, made)):
        changes[direction].append(change)
    for category in ("table", "column", "function"):
        catalogs.todo += _unwritten(catalogs, category)
    ordered_up, ordered_down = _ordered(changes["up"]), _ordered(changes["down"])
    concurrent = any("CONCURRENTLY" in s for s in ordered_up + ordered_down)
    return DriftMigration(ordered_up, ordered_down, catalogs.todo, concurrent)


def _ordered(changes: list[Change]) -> list[str]:
    drops = sorted((c for c in changes if not c.create),
                   key=lambda c: -_CREATE_ORDER.index(c.kind))
    creates = sorted((c for c in changes if c.create), key=lambda c: _CREATE_ORDER.index(c.kind))
    return [c.sql for c in (*drops, *creates)]


def _one_side(key: str, kind: str, before: State | None, after: State | None, create: str,
              drop: str, makes: tuple[tuple[str, str], ...] = ()) -> Found:
    """Made where only ``after`` has it, dropped where only ``before`` does."""
    made, dropped = Change(kind, True, create, makes), Change(kind, False, drop)
    yield "up", made if after is not None else dropped
    yield "down", dropped if after is not None else made


def _schemas(catalogs: Catalogs) -> Found:
    for key, before, after in catalogs.pairs("schema"):
        if before is None or after is None:  # otherwise its grants or comment: afterwards
            yield from _one_side(key, "schema", before, after, f"CREATE SCHEMA {ident(key)};",
                                 f"DROP SCHEMA {ident(key)};", (("schema", key),))


def _extensions(catalogs: Catalogs) -> Found:
    for key, before, after in catalogs.pairs("extension"):
        if before is not None and after is not None:  # another version or schema
            catalogs.by_hand("extension", key)
            continue
        state = after if after is not None else before
        assert state is not None
        yield from _one_side(key, "extension", before, after,
                             f"CREATE EXTENSION IF NOT EXISTS {ident(key)} WITH SCHEMA "
                             f"{ident(state['schema'])} VERSION {quoted(state['version'])};",
                             f"DROP EXTENSION {ident(key)};")


def _sequences(catalogs: Catalogs) -> Found:
    for key, before, after in catalogs.pairs("sequence"):
        if before is not None and after is not None:
            yield from _sequence_settings(catalogs, key, before, after)
            continue
        state = after if after is not None else before
        snapshot = catalogs.actual if after is not None else catalogs.expected
        assert state is not None
        column = state.get("owned_by")
        if column and identity_sequence(snapshot, column) is not None:
            identities = [s.get("column", {}).get(column, {}).get("identity")
                          for s in (catalogs.expected, catalogs.actual)]
            if identities[0] == identities[1]:  # the same identity column, another sequence
                catalogs.by_hand("sequence", key)
            continue  # made and dropped with its identity column
        create = [Change("sequence", True, f"CREATE SEQUENCE {key} AS {state['type']} "
                         f"{sequence_options(state)};", (("sequence", key),))]
        if column:  # once its table exists
            create.append(Change("column", True, f"ALTER SEQUENCE {key} OWNED BY {column};"))
        drop = Change("sequence", False, f"DROP SEQUENCE IF EXISTS {key};")  # or with its table
        for change in create:
            yield ("up" if after is not None else "down"), change
        yield ("down" if after is not None else "up"), drop


def _sequence_settings(catalogs: Catalogs, key: str, before: State, after: State) -> Found:
    changed = differing(before, after, ("grants",))
    if "owned_by" in changed:
        catalogs.by_hand("sequence", key)
    elif changed:
        for direction, old, new, _ in catalogs.directions(before, after):
            assert old is not None and new is not None
            retype = f" AS {new['type']}" if old["type"] != new["type"] else ""
            yield direction, Change("sequence", True, f"ALTER SEQUENCE {key}{retype} "
                                    f"{sequence_options(new)};")


def _constraints(catalogs: Catalogs) -> Found:
    for key, before, after in catalogs.pairs("constraint"):
        name, table = _constraint_name_and_table(key)
        if (before or after or {}).get("type") == "n":
            continue  # 18's NOT NULL constraints: the columns' (and drift.not_null)
        if name is None or table is None:
            catalogs.todo.append(f"constraint {key}: not on a table")
            continue
        if _is_table(table, catalogs):
            alter = f"ALTER TABLE {table}"
        elif _is_domain(table, catalogs):
            alter = f"ALTER DOMAIN {table}"
        else:
            catalogs.todo.append(f"constraint {key}: not on a table")
            continue

        def add(state: dict[str, Any], alter: str = alter, name: str = name) -> str:
            return f"{alter} ADD CONSTRAINT {name} {state['definition']};"

        drop = f"{alter} DROP CONSTRAINT {name};"
        if before is None or after is None:
            yield "up", Change("constraint", after is not None,
                               add(after) if after is not None else drop)
            yield "down", Change("constraint", before is not None,
                                 add(before) if before is not None else drop)
        elif (_strip_not_valid(before["definition"]) == _strip_not_valid(after["definition"])
              and before["valid"] != after["valid"] and after["valid"]):
            yield "up", Change("constraint", True, f"{alter} VALIDATE CONSTRAINT {name};")
            yield "down", Change("constraint", False, drop)
            yield "down", Change("constraint", True, add(before))  # back NOT VALID: no scan
        else:
            yield "up", Change("constraint", False, drop)
            yield "up", Change("constraint", True, add(after))
            yield "down", Change("constraint", False, drop)
            yield "down", Change("constraint", True, add(before))


def _indexes(catalogs: Catalogs) -> Found:
    """Indexes, built CONCURRENTLY. One on a partitioned table is made ON ONLY it (at once,
    without building anything), each partition's is built concurrently and then attached to it;
    dropping it drops its partitions'. A constraint's index goes with its constraint."""
    owned = {_constraint_index(key) for snapshot in (catalogs.expected, catalogs.actual)
             for key, state in snapshot.get("constraint", {}).items()
             if state["type"] in ("p", "u", "x")}
    attached: list[tuple[int, str, Change]] = []
    for key, before, after in catalogs.pairs("index"):
        if key in owned:
            continue  # made and dropped with its constraint
        if after is not None and not after["valid"]:
            catalogs.todo.append(f"index {key}: INVALID in the database (a failed concurrent "
                                 "build: drop it, or build it again)")
            continue
        if before is not None and after is not None and (
                before.get("partition_of") or after.get("partition_of")):
            catalogs.by_hand("index", key)  # a partition's index cannot be dropped alone
            continue
        for direction, old, new, snapshot in catalogs.directions(before, after):
            if old is not None and not old.get("partition_of"):  # else: with its parent
                partitioned = " ON ONLY " in old["definition"]
                yield direction, Change("index", False, f"DROP INDEX "
                                        f"{'' if partitioned else 'CONCURRENTLY '}{key};")
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


def _built_here(catalogs: Catalogs, key: str, snapshot: Snapshot, owned: set[str]) -> bool:
    """Whether this direction builds the index: not a partition's that its parent index (or a
    partition made while that exists) makes, nor one that the other side has."""
    other = catalogs.expected if snapshot is catalogs.actual else catalogs.actual
    while key not in other.get("index", {}) and key not in owned:
        parent = snapshot.get("index", {}).get(key, {}).get("partition_of")
        if not parent:
            return True
        key = parent
    return False


def _index_depth(snapshot: Snapshot, key: str) -> int:
    depth = 0
    while (key := snapshot.get("index", {}).get(key, {}).get("partition_of")) and depth < 100:
        depth += 1
    return depth


def _functions(catalogs: Catalogs) -> Found:
    for key, before, after in catalogs.pairs("function"):
        states = [s for s in (before, after) if s is not None]
        if before is not None and after is not None and (
                before.get("definition") == after.get("definition")):
            continue  # only its comment or grants changed
        kind = "PROCEDURE" if states[0].get("kind") == "p" else "FUNCTION"
        drop = Change("function", False, f"DROP {kind} {key};")
        for direction, old, new, _ in catalogs.directions(before, after):
            if new is None:
                yield direction, drop
            else:  # CREATE OR REPLACE keeps the grants of one it replaces
                yield direction, Change("function", True, _definition(new),
                                        (("function", key),) if old is None else ())


def _triggers(catalogs: Catalogs) -> Found:
    for key, before, after in catalogs.pairs("trigger"):
        name, _, table = key.partition(" on ")
        drop = Change("trigger", False, f"DROP TRIGGER {name} ON {table};")
        if (before is not None and after is not None
                and before["definition"] == after["definition"]):
            for direction, state in (("up", after), ("down", before)):
                yield direction, Change("trigger", True, f"ALTER TABLE {table} "
                                        f"{_TRIGGER_STATES[state['enabled']]} TRIGGER {name};")
            continue
        for direction, old, new, _ in catalogs.directions(before, after):
            if old is not None:
                yield direction, drop
            if new is not None:
                yield direction, Change("trigger", True, _definition(new))
                if new["enabled"] != "O":
                    yield direction, Change("trigger", True, f"ALTER TABLE {table} "
                                            f"{_TRIGGER_STATES[new['enabled']]} TRIGGER {name};")


def _unwritten(catalogs: Catalogs, category: str) -> list[str]:
    """What a new (or dropped) table, column or function has that is not written with it."""
    lines = []
    for key, before, after in catalogs.pairs(category):
        if before is not None and after is not None:
            continue  # changes: said where they are handled
        state = after if after is not None else before
        assert state is not None
        extra = sorted(a for a, v in state.items()
                       if a not in _WRITTEN[category] and v not in (None, [], False))
        if category == "table" and state.get("persistence") not in (None, "p", "u"):
            extra.append("persistence")
        if extra:
            lines.append(f"{category} {key}: {', '.join(extra)} not written")
    return lines


# -- SQL text -----------------------------------------------------------------------------------


def _concurrently(definition: str) -> str:
    """``CREATE [UNIQUE] INDEX name ON …`` as its CONCURRENTLY form; one ON ONLY a partitioned
    table as it is (it builds nothing, and cannot be made concurrently)."""
    if " ON ONLY " in definition:
        return definition + ";"
    head, _, rest = definition.partition(" INDEX ")
    return f"{head} INDEX CONCURRENTLY {rest};"


def _definition(state: dict[str, Any]) -> str:
    text = str(state["definition"]).rstrip()
    return text if text.endswith(";") else text + ";"


def _strip_not_valid(definition: str) -> str:
    return definition.removesuffix(" NOT VALID")


def _is_domain(name: str, catalogs: Catalogs) -> bool:
    states = [s.get("type", {}).get(name) for s in (catalogs.expected, catalogs.actual)]
    return any(state is not None and state["kind"] == "d" for state in states)


def _is_table(table: str, catalogs: Catalogs) -> bool:
    states = [s.get("table", {}).get(table) for s in (catalogs.expected, catalogs.actual)]
    return any(state is not None and state["kind"] in ("r", "p") for state in states)


# -- names --------------------------------------------------------------------------------------


def _constraint_name_and_table(key: str) -> tuple[str | None, str | None]:
    """``schema.name on table`` -> (``name``, ``table``); ``table`` as regclass prints it."""
    head, sep, table = key.partition(" on ")
    parts = identifiers(head)
    if not sep or len(parts) != 2:
        return None, None
    return parts[1], _qualified(parts[0], table)


def _qualified(schema: str, table: str) -> str:
    """The table's name with its schema: regclass leaves out a schema on the search_path."""
    return table if len(identifiers(table)) > 1 else f"{schema}.{table}"


def _constraint_index(key: str) -> str:
    """The index a constraint's key would have: ``schema.name``."""
    head = key.partition(" on ")[0]
    return head
