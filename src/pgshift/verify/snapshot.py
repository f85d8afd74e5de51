"""A normalised catalog snapshot of a database's schema, and a readable diff of two snapshots.

The snapshot names objects, never OIDs, so it compares equal across a drop and re-create:
schemas, tables (with columns: type, default, nullability, identity, generation, position,
statistics target, storage, compression; row security; replica identity; partitioning and the
parents they inherit from), constraints (with validity), indexes (with validity, and the
partitioned index one belongs to), views, functions, triggers, enums, domains, composite and
range types, sequences (type, start, increment, bounds, cache, cycle, the column they are
OWNED BY; an identity column's too), policies, extensions, comments and grants; rules,
extended statistics (and their target), aggregates, collations, default privileges, event
triggers, publications (their tables with column lists and row filters, their schemas),
foreign-data wrappers, foreign servers and user mappings (options that may hold a password
only as a digest, never shown). pgshift's own schema, the system schemas and objects that
belong to an extension are left out, and so is what an object makes along with itself: the
constraints and triggers a partition (or child table) takes from its parent, a range type's
constructor functions. A sequence's current value is data, not schema (a round trip that
inserts rows moves it on), and is left out too; an ACL that holds what the object's default
does is none. The owners of schemas, relations, sequences, routines, types, collations,
extended statistics, publications, event triggers, foreign-data wrappers and foreign servers
are compared where not the role reading (the one that ran the migrations there, whatever its
name: a scratch database's replay may use another), as default privileges name their role:
so a down that forgets to give an object back shows, and so does an object that a database
has under another role than the one that runs pgshift. Not compared: subscriptions (not in
the snapshot at all), operators, casts, text search configurations, conversions, and comments
on indexes, constraints and triggers.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from psycopg2.extensions import connection as Connection

from pgshift.verify.snapshot_queries import QUERIES

Snapshot = dict[str, dict[str, dict[str, Any]]]

# How a category is called in a diff, where not by its own name.
_LABELS = {"table": "relation", "statistics": "statistics object",
           "foreign data wrapper": "foreign-data wrapper"}
# Attributes compared but never shown: a digest of what may be a password.
_HIDDEN = frozenset({"secrets"})
# How an attribute's none reads, where "none" would not say it.
_NONE = {"owner": "the migrations' role", "storage": "its type's", "compression": "the default"}
_KIND_NAMES = {"r": "table", "p": "partitioned table", "v": "view", "m": "materialized view",
               "f": "foreign table"}
_SYSTEM_SCHEMAS = ("pg_catalog", "information_schema")


# How catalog definitions print: PostgreSQL's defaults, for every database alike.
_OUTPUT_SETTINGS = ";".join(f"SET LOCAL {name} = {value}" for name, value in (
    ("quote_all_identifiers", "off"), ("intervalstyle", "postgres"), ("datestyle", "'ISO, MDY'"),
    ("timezone", "'UTC'"), ("extra_float_digits", "1"), ("bytea_output", "hex"),
    ("standard_conforming_strings", "on")))


# The role that ran the migrations: the one that owns pgshift's history (read in the catalog,
# which every role may read, where to_regclass would need the schema's USAGE), else the
# role reading. A monitoring role that runs 'pgshift drift' sees owners as the migrations'.
# Named as regrole prints a role (quoted where needed); current_user::regrole would read the
# name as SQL: "Deploy Bot" fails, and "Alice" is looked up as alice.
_MIGRATIONS_ROLE = """
    SELECT coalesce((SELECT c.relowner::regrole::text FROM pg_class c
                     JOIN pg_namespace n ON n.oid = c.relnamespace
                     WHERE n.nspname = %(schema)s AND c.relname = 'history'
                       AND c.relkind IN ('r', 'p')), quote_ident(current_user))"""


def take_snapshot(conn: Connection, *, exclude_schemas: Iterable[str] = (),
                  history_schema: str | None = None) -> Snapshot:
    """The schema of the database behind ``conn`` (read only).

    Owners (and default privileges and user mappings) are said only where they are not the
    role that ran the migrations: the owner of ``history_schema``'s history table when given
    and present, else the role reading.
    On an autocommit connection the reads run in a transaction of their own; otherwise in a
    savepoint of the caller's transaction, which goes on afterwards as it was.
    """
    skip = list(_SYSTEM_SCHEMAS) + list(exclude_schemas)
    snapshot: Snapshot = {}
    begin, end = (("BEGIN;", "ROLLBACK") if conn.autocommit else
                  ("SAVEPOINT pgshift_snapshot;",
                   "ROLLBACK TO SAVEPOINT pgshift_snapshot; RELEASE SAVEPOINT pgshift_snapshot"))
    with conn.cursor() as cur:
        # Names print schema-qualified and the same whatever the session's search_path, and
        # definitions print the same whatever a database or role sets for output (the target
        # and its scratch copy may differ there): otherwise quote_all_identifiers makes every
        # object look changed, and IntervalStyle or TimeZone every default. No JIT: on a big
        # or churned catalog these reads are costed above its thresholds, and compiling them
        # takes longer than running them. Ending the transaction (or rolling back to the
        # savepoint) undoes every setting.
        cur.execute(f"{begin}SET LOCAL search_path = pg_catalog; SET LOCAL jit = off;"
                    + _OUTPUT_SETTINGS)
        cur.execute(_MIGRATIONS_ROLE, {"schema": history_schema})
        (runner,) = cur.fetchone()
        for category, query in QUERIES.items():
            cur.execute(query, {"skip": skip, "runner": runner})
            names = [d.name for d in cur.description][1:]
            snapshot[category] = {
                str(row[0]): dict(zip(names, map(_plain, row[1:]), strict=True))
                for row in cur.fetchall()
            }
        cur.execute(end)
    return snapshot


def _plain(value: Any) -> Any:
    """JSON-friendly and comparable: lists stay lists, everything odd becomes text."""
    if value is None or isinstance(value, (bool, int, str)):
        return value
    if isinstance(value, (list, tuple)):
        return [_plain(v) for v in value]
    return str(value)


def diff_snapshots(expected: Snapshot, actual: Snapshot, *, expected_name: str,
                   actual_name: str) -> list[str]:
    """Readable lines, one per difference; empty when the snapshots are equal.

    ``expected_name``/``actual_name`` say which state each is, e.g. "before up", "after down".
    """
    return [line for _, line in _differences(expected, actual, expected_name, actual_name)]


def diff_apart_from_order(expected: Snapshot, actual: Snapshot, *, expected_name: str,
                          actual_name: str) -> tuple[list[str], list[str]]:
    """The differences, and apart from them those only in column positions: a down that adds
    back a dropped column puts it last, and PostgreSQL has no way to put it where it was."""
    lines, order = [], []
    for attribute, line in _differences(expected, actual, expected_name, actual_name):
        (order if attribute == "position" else lines).append(line)
    return lines, order


def _differences(expected: Snapshot, actual: Snapshot, expected_name: str,
                 actual_name: str) -> list[tuple[str | None, str]]:
    """(the attribute that differs, or None for an object present on one side only; the line)."""
    found: list[tuple[str | None, str]] = []
    for category in QUERIES:
        want, have = expected.get(category, {}), actual.get(category, {})
        label = _LABELS.get(category, category)
        for key in sorted(have.keys() - want.keys()):
            found.append((None, f"{_what(label, have[key])} {key}: present {actual_name}, "
                                f"absent {expected_name}{_summary(have[key])}"))
        for key in sorted(want.keys() - have.keys()):
            found.append((None, f"{_what(label, want[key])} {key}: missing {actual_name}, "
                                f"present {expected_name}{_summary(want[key])}"))
        for key in sorted(want.keys() & have.keys()):
            for attribute in want[key]:
                before, after = want[key].get(attribute), have[key].get(attribute)
                if before != after and attribute in _HIDDEN:
                    found.append((attribute, f"{_what(label, want[key])} {key}: {attribute} "
                                             f"differ (not shown)"))
                elif before != after:
                    none = _NONE.get(attribute, "none")
                    found.append((attribute, f"{_what(label, want[key])} {key}: {attribute} is "
                                             f"{_show(after, none)} {actual_name}, was "
                                             f"{_show(before, none)} {expected_name}"))
    return found


def _what(label: str, attributes: dict[str, Any]) -> str:
    if label == "relation":
        return _KIND_NAMES.get(str(attributes.get("kind")), "relation")
    return label


def _summary(attributes: dict[str, Any]) -> str:
    definition = attributes.get("definition") or attributes.get("type")
    if not isinstance(definition, str):
        return ""
    text = " ".join(definition.split())
    return f" ({text[:117]}...)" if len(text) > 120 else f" ({text})"


def _show(value: Any, none: str = "none") -> str:
    if value is None:
        return none
    if isinstance(value, str):
        text = " ".join(value.split())
        return repr(text[:117] + "...") if len(text) > 120 else repr(text)
    return str(value)
