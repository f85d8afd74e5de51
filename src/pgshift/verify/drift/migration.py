"""A migration that captures schema drift: what was changed by hand, written as up and down SQL.

``validate --schema-drift`` names each difference between the database and what its applied
migrations make. ``create NAME --from-drift`` writes them as the next migration: its up part
makes the migrations' schema what the database has, its down part undoes that. The database it
was read from already has the change, so it records the file with ``baseline``; every other
environment applies it with ``up``, and all of them end the same.

What is written, from the two catalog snapshots (``pgshift.verify.snapshot``; each kind of
object in a module of ``pgshift.verify.drift``):

- schemas, extensions, foreign-data wrappers, foreign servers and their options, user mappings
  (their options, never a password: ``drift.servers``), collations
  (``drift.collations``), types (enums and their values, domains with their defaults, NOT NULL
  and CHECK constraints, composite types and their attributes, range types), sequences and
  their settings (and the column they are OWNED BY), tables (plain, UNLOGGED, partitioned,
  and partitions made PARTITION OF their parent), columns (type, default, NOT NULL, identity,
  generated, statistics target, storage, compression: ``drift.storage``), constraints (with
  their validity), indexes (built and dropped ``CONCURRENTLY``, so the file is ``no-transaction``;
  on a partitioned table, made ON ONLY it with each partition's built concurrently and
  attached) and the one a table is clustered on, replica identity and publications (their
  tables with column lists and row filters, and schemas: ``drift.replication``), functions and
  procedures, aggregates (``drift.aggregates``), views, extended statistics (and their
  statistics target), triggers (and whether they are enabled), rules (``drift.rules``),
  row-level security (policies, and whether a table enables and forces it), grants (GRANT and
  REVOKE of the privileges that differ: ``drift.grants``), comments, event triggers and
  default privileges (``drift.default_privileges``; what the file makes starts with the grants
  that default privileges give it as it is made), the owners of schemas, relations,
  sequences, routines, types, collations, extended statistics, publications, event triggers,
  foreign-data wrappers and foreign servers (``drift.owners``);
- in dependency order (``drift.order``): the up part drops before it creates, and creates in
  that order; the down part does the same the other way. A routine the file makes goes before
  the index, constraint, default, domain or other statement that calls it, and one it drops
  after them. Event triggers are made after the rest, so that they fire on none of it, and
  default privileges that give more than PostgreSQL's are set last, so that they give nothing
  to what the file makes.
  PostgreSQL cannot remove a value from an enum: the down part says so in a comment and leaves
  the value. A generated column whose expression changed is altered in place from PostgreSQL
  17 (the server the drift was read on); before, it is dropped and added again, and a comment
  says so.

A rename cannot be told from a drop and an add: where they look alike (a column of the same
type, a table with the same columns), a TODO line says to write the RENAME instead
(``drift.renames``).

Anything else (an extension's new version, a table's storage settings or its inheritance,
materialized views, foreign tables, a grant made by another role than the owner, a generated
column that something reads and that cannot change in place, a collation that changed, a
publication that becomes FOR ALL TABLES, a user mapping's password or other option that may
hold one, the sequence of an identity column given to another column) is a ``-- TODO:`` line
naming the difference, in the up part and in the down part, to write by hand; so is a kind of
object (or an attribute) that the snapshot compares and ``drift.kinds`` does not know. The
file is a draft to review like any migration: ``lint`` and ``verify`` check it as they check
the rest.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

from pgshift.errors import InputError
from pgshift.recipes.model import ident
from pgshift.verify.drift.aggregates import aggregates
from pgshift.verify.drift.attributes import attributes
from pgshift.verify.drift.change import (
    Catalogs,
    Change,
    Found,
    State,
    definition,
    differing,
    enabled_as,
    one_side,
    quoted,
    sequence_options,
)
from pgshift.verify.drift.collations import collations
from pgshift.verify.drift.constraints import constraints
from pgshift.verify.drift.default_privileges import default_privileges
from pgshift.verify.drift.event_triggers import event_triggers
from pgshift.verify.drift.indexes import clustering, indexes
from pgshift.verify.drift.kinds import unhandled, unwritten
from pgshift.verify.drift.not_null import not_null_constraints
from pgshift.verify.drift.order import ordered
from pgshift.verify.drift.owners import owners, reowned, without_owners
from pgshift.verify.drift.policies import policies
from pgshift.verify.drift.renames import note_renames
from pgshift.verify.drift.replication import publications, replica_identities
from pgshift.verify.drift.rules import rules
from pgshift.verify.drift.servers import servers, user_mappings, wrappers
from pgshift.verify.drift.statistics import statistics
from pgshift.verify.drift.tables import columns, identity_sequence, tables
from pgshift.verify.drift.types import types
from pgshift.verify.drift.views import views

if TYPE_CHECKING:
    from pgshift.verify.schema_drift import SchemaDrift
    from pgshift.verify.snapshot import Snapshot

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
        """The migration file: directives, the up part, then ``-- pgshift:down``. Each part
        starts with the TODO lines, as each has them to write by hand."""
        lines = ["-- pgshift:no-transaction"] if self.concurrent else []
        lines += [header, "", *self._up_part(), "", "-- pgshift:down", *self._down_part()]
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
        up, down = [header, "", *self._up_part()], self._down_part()
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

    def _up_part(self) -> list[str]:
        return [*(f"-- TODO: {item}" for item in self.todo), *self.up]

    def _down_part(self) -> list[str]:
        lines = [*(f"-- TODO: undo: {item}" for item in self.todo), *self.down]
        return lines or ["-- nothing to undo"]


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
    catalogs = Catalogs(without_owners(expected), without_owners(actual), major,
                        reowned=reowned(expected, actual))
    note_renames(catalogs)
    changes: dict[str, list[Change]] = {"up": [], "down": []}
    # Each writes the changes of a few kinds (``drift.kinds`` says which attributes); the
    # second ones need to know what the first ones make (a view made again loses its
    # triggers and rules).
    for found in (_schemas, _extensions, wrappers, servers, user_mappings, collations, types,
                  _sequences, tables, views, columns, constraints, not_null_constraints, indexes,
                  clustering, _functions, aggregates, event_triggers, publications,
                  default_privileges):
        for direction, change in found(catalogs):
            changes[direction].append(change)
    made = _made(changes)
    for direction, change in (*_triggers(catalogs, made), *policies(catalogs, made),
                              *rules(catalogs, made), *statistics(catalogs, made),
                              *replica_identities(catalogs, made), *attributes(catalogs, made)):
        changes[direction].append(change)
    # Owners last: extended statistics are made (or made again) in the second round.
    for direction, change in owners(expected, actual, _made(changes)):
        changes[direction].append(change)
    unwritten(catalogs)
    unhandled(catalogs)
    ordered_up, ordered_down = ordered(changes["up"]), ordered(changes["down"])
    concurrent = any("CONCURRENTLY" in s for s in ordered_up + ordered_down)
    return DriftMigration(ordered_up, ordered_down, catalogs.todo, concurrent)


def _made(changes: dict[str, list[Change]]) -> dict[str, set[tuple[str, str]]]:
    """(category, key) of what each direction's changes make."""
    return {direction: {m for change in found for m in change.makes}
            for direction, found in changes.items()}


def _schemas(catalogs: Catalogs) -> Found:
    for key, before, after in catalogs.pairs("schema"):
        if before is None or after is None:  # otherwise its grants or comment: afterwards
            yield from one_side(key, "schema", before, after, f"CREATE SCHEMA {ident(key)};",
                                f"DROP SCHEMA {ident(key)};", (("schema", key),))


def _extensions(catalogs: Catalogs) -> Found:
    for key, before, after in catalogs.pairs("extension"):
        if before is not None and after is not None:  # another version or schema
            catalogs.by_hand("extension", key)
            continue
        state = after if after is not None else before
        assert state is not None
        yield from one_side(key, "extension", before, after,
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
    if "owned_by" in changed and any(
            identity_sequence(snapshot, state["owned_by"]) is not None
            for snapshot, state in ((catalogs.expected, before), (catalogs.actual, after))
            if state.get("owned_by")):
        catalogs.by_hand("sequence", key)  # an identity column's: goes with its identity
        return
    for direction, old, new, _ in catalogs.directions(before, after):
        assert old is not None and new is not None
        if set(changed) - {"owned_by"}:
            if int(new["min"]) > int(old["min"]) or int(new["max"]) < int(old["max"]):
                # ALTER SEQUENCE refuses bounds its current value is outside: moved in first.
                low, high = new["min"], new["max"]
                yield direction, Change("sequence", True, f"SELECT setval({quoted(key)}, "
                                        f"greatest({low}, least({high}, last_value)), is_called "
                                        f"AND last_value BETWEEN {low} AND {high}) FROM {key};")
            retype = f" AS {new['type']}" if old["type"] != new["type"] else ""
            yield direction, Change("sequence", True, f"ALTER SEQUENCE {key}{retype} "
                                    f"{sequence_options(new)};")
        if "owned_by" not in changed:
            continue
        # Taken from its column before that may go (with the drops), given to the new one
        # once it exists.
        if old.get("owned_by"):
            yield direction, Change("owned by", False, f"ALTER SEQUENCE {key} OWNED BY NONE;")
        if new.get("owned_by"):
            yield direction, Change("owned by", True, f"ALTER SEQUENCE {key} OWNED BY "
                                    f"{new['owned_by']};")


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
                yield direction, Change("function", True, definition(new),
                                        (("function", key),) if old is None else ())


def _triggers(catalogs: Catalogs, made: dict[str, set[tuple[str, str]]]) -> Found:
    """Triggers made, dropped, made again with another definition, enabled or disabled; one on
    a view that the migration drops and makes again is made again after it, changed or not."""
    want, have = catalogs.expected.get("trigger", {}), catalogs.actual.get("trigger", {})
    for key in sorted(want.keys() | have.keys()):
        name, _, table = key.partition(" on ")
        for direction, old, new, _ in catalogs.directions(want.get(key), have.get(key)):
            remade = ("table", table) in made[direction]  # its old triggers went with it
            if old == new and not remade:
                continue
            if (old is not None and new is not None and not remade
                    and old["definition"] == new["definition"]):
                yield direction, Change("trigger", True, f"ALTER TABLE {table} "
                                        f"{enabled_as(new['enabled'])} TRIGGER {name};")
                continue
            if old is not None and not remade:
                yield direction, Change("trigger", False, f"DROP TRIGGER {name} ON {table};")
            if new is not None:
                yield direction, Change("trigger", True, definition(new))
                if new["enabled"] != "O":
                    yield direction, Change("trigger", True, f"ALTER TABLE {table} "
                                            f"{enabled_as(new['enabled'])} TRIGGER {name};")
