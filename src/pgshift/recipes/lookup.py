"""What the database says about the tables, columns and names a recipe is given (best effort):
each function reads on a cursor; ``ask`` opens it, or says the database cannot be reached."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, TypeVar

from pgshift.errors import DatabaseConnectionError
from pgshift.recipes.model import ColumnInfo, Partition, name_parts, qualified

if TYPE_CHECKING:
    from psycopg2.extensions import cursor as Cursor

    from pgshift.config import Settings

T = TypeVar("T")


@dataclass(frozen=True)
class Relation:
    """What a name given to a recipe is in the database."""

    kind: str  # pg_class.relkind: 'r' table, 'p' partitioned table, 'v' view, ...
    is_partition: bool

    @property
    def what(self) -> str:
        return _KINDS.get(self.kind, "not a table")


_KINDS = {"r": "a table", "p": "a partitioned table", "v": "a view", "m": "a materialized view",
          "i": "an index", "I": "a partitioned index", "S": "a sequence", "f": "a foreign table",
          "c": "a composite type"}


def relation(cur: Cursor, name: str) -> Relation | None:
    """What ``name`` (``schema.table`` as recipes take it) is; None when nothing has that name."""
    cur.execute("SELECT relkind, relispartition FROM pg_class WHERE oid = to_regclass(%s)",
                (qualified(name),))
    row = cur.fetchone()
    return Relation(row[0], row[1]) if row else None


def relation_named(cur: Cursor, table: str, name: str) -> str | None:
    """What takes the name ``name`` in ``table``'s schema ('index x on t', 'table x'), if any:
    indexes, tables and sequences share one set of names per schema."""
    cur.execute(
        "SELECT pg_describe_object('pg_class'::regclass, c.oid, 0) FROM pg_class c "
        f"WHERE c.relname = %s AND c.relnamespace = {_SCHEMA_OF_TABLE}",
        (name, qualified(table), *_schema_of(table)))
    row = cur.fetchone()
    return row[0] if row else None


# The schema a statement on ``table`` puts a new index or name in, compared by name (never
# parsed again, so "Shop" and "Shop Two" are what they say): the table's own schema when it
# exists, else the schema given, else the one CREATE would use.
_SCHEMA_OF_TABLE = """coalesce(
    (SELECT relnamespace FROM pg_class WHERE oid = to_regclass(%s)),
    (SELECT oid FROM pg_namespace WHERE nspname = coalesce(%s, current_schema())))"""


def _schema_of(name: str) -> tuple[str | None]:
    """The schema part of ``schema.name`` as SQL reads it (None: unqualified)."""
    parts = name_parts(name)
    return (parts[0] if len(parts) == 2 else None,)


def type_named(cur: Cursor, name: str) -> str | None:
    """The type that CREATE TYPE ``name`` would collide with, or that ``name`` would still mean
    in a column's type after it (``name`` and ``int`` mean pg_catalog's types whatever is
    created in public): None when there is none."""
    parts = name_parts(name)
    cur.execute(
        "SELECT CASE WHEN n.nspname = coalesce(%s, current_schema()) THEN format_type(t.oid, "
        "NULL) ELSE quote_ident(n.nspname) || '.' || quote_ident(t.typname) END "
        "FROM pg_type t JOIN pg_namespace n ON n.oid = t.typnamespace "
        "WHERE t.typname = %s AND n.nspname = coalesce(%s, current_schema()) "
        "OR t.oid = to_regtype(%s) ORDER BY t.oid = to_regtype(%s) DESC LIMIT 1",
        (*_schema_of(name), parts[-1], *_schema_of(name), qualified(name), qualified(name)))
    row = cur.fetchone()
    return row[0] if row else None


def is_ancestor(cur: Cursor, table: str, of: str) -> bool:
    """Whether ``table`` is ``of`` itself or a partitioned table ``of`` is a partition of."""
    cur.execute("SELECT to_regclass(%s) IN (SELECT relid FROM pg_partition_ancestors("
                "to_regclass(%s)))", (qualified(table), qualified(of)))
    return bool(cur.fetchone()[0])


def has_constraint(cur: Cursor, table: str, name: str) -> bool:
    cur.execute("SELECT 1 FROM pg_constraint WHERE conrelid = to_regclass(%s) AND conname = %s",
                (qualified(table), name))
    return cur.fetchone() is not None


def unique_key(cur: Cursor, table: str, columns: list[str]) -> bool:
    """Whether a foreign key can reference ``columns`` of ``table`` (none: its primary key):
    PostgreSQL needs a primary key, or a unique constraint or index on exactly those columns."""
    cur.execute(
        "SELECT 1 FROM pg_index i WHERE i.indrelid = to_regclass(%s) AND i.indisunique "
        "AND i.indisvalid AND i.indimmediate AND i.indpred IS NULL AND i.indexprs IS NULL "
        "AND (%s AND i.indisprimary OR NOT %s AND i.indnkeyatts = cardinality(%s::name[]) "
        "AND (SELECT array_agg(attname ORDER BY attname) FROM pg_attribute "
        "     WHERE attrelid = i.indrelid AND attnum = ANY (i.indkey[0:i.indnkeyatts - 1])) "
        "    = (SELECT array_agg(c ORDER BY c) FROM unnest(%s::name[]) AS c))",
        (qualified(table), not columns, not columns, columns, columns))
    return cur.fetchone() is not None


# The sequence a column owns: a serial's (deptype 'a') or its identity's ('i').
_OWNED_SEQUENCE = """
LEFT JOIN LATERAL (SELECT q.* FROM pg_depend o JOIN pg_sequence q ON q.seqrelid = o.objid
                   WHERE o.classid = 'pg_class'::regclass AND o.refclassid = 'pg_class'::regclass
                     AND o.refobjid = a.attrelid AND o.refobjsubid = a.attnum
                     AND o.deptype IN ('a', 'i') LIMIT 1) s ON true"""

_COLUMN = f"""
SELECT format_type(a.atttypid, a.atttypmod), a.attnotnull, pg_get_expr(d.adbin, d.adrelid),
       CASE WHEN a.attcollation <> t.typcollation THEN a.attcollation::regcollation::text END,
       col_description(a.attrelid, a.attnum), NULLIF(a.attstattarget, -1)::int,
       CASE WHEN a.attidentity <> '' THEN format(
           'GENERATED %%s AS IDENTITY (SEQUENCE NAME %%s START WITH %%s INCREMENT BY %%s '
           'MINVALUE %%s MAXVALUE %%s CACHE %%s%%s)',
           CASE a.attidentity WHEN 'a' THEN 'ALWAYS' ELSE 'BY DEFAULT' END,
           s.seqrelid::regclass, s.seqstart, s.seqincrement, s.seqmin, s.seqmax, s.seqcache,
           CASE WHEN s.seqcycle THEN ' CYCLE' ELSE '' END) END,
       CASE WHEN a.attidentity = '' THEN s.seqrelid::regclass::text END
FROM pg_attribute a JOIN pg_type t ON t.oid = a.atttypid
LEFT JOIN pg_attrdef d ON d.adrelid = a.attrelid AND d.adnum = a.attnum {_OWNED_SEQUENCE}
WHERE a.attrelid = to_regclass(%s) AND a.attname = %s AND a.attnum > 0 AND NOT a.attisdropped
"""


def column_info(cur: Cursor, table: str, column: str) -> ColumnInfo | None:
    """What a down part needs to bring the column back; None when the column is not there."""
    cur.execute(_COLUMN, (qualified(table), column))
    row = cur.fetchone()
    return ColumnInfo(row[0], bool(row[1]), *row[2:]) if row else None


# What DROP COLUMN (without CASCADE) fails on: anything that depends on the column and does not
# go with it (a view, another column's generation expression, a foreign key of another table, a
# policy, a trigger's column list...), then what goes with it silently (indexes, constraints).
_COLUMN_STATE = f"""
SELECT a.attgenerated <> '', a.attnotnull,
       array(SELECT DISTINCT CASE
                 WHEN d.classid = 'pg_rewrite'::regclass
                 THEN 'view ' || r.ev_class::regclass::text
                 WHEN ga.attgenerated <> ''
                 THEN 'generated column ' || ad.adrelid::regclass::text || '.'
                      || quote_ident(ga.attname)
                 ELSE pg_describe_object(d.classid, d.objid, d.objsubid) END
             FROM pg_depend d
             LEFT JOIN pg_rewrite r ON d.classid = 'pg_rewrite'::regclass AND r.oid = d.objid
             LEFT JOIN pg_attrdef ad ON d.classid = 'pg_attrdef'::regclass AND ad.oid = d.objid
             LEFT JOIN pg_attribute ga ON ga.attrelid = ad.adrelid AND ga.attnum = ad.adnum
             WHERE d.refclassid = 'pg_class'::regclass AND d.refobjid = a.attrelid
               AND d.refobjsubid = a.attnum AND d.deptype = 'n'
               AND r.ev_class IS DISTINCT FROM a.attrelid
               AND NOT EXISTS (SELECT 1 FROM pg_depend o WHERE o.classid = d.classid
                               AND o.objid = d.objid AND o.refclassid = d.refclassid
                               AND o.refobjid = d.refobjid AND o.refobjsubid = d.refobjsubid
                               AND o.deptype IN ('a', 'i'))
             ORDER BY 1),
       array(SELECT DISTINCT CASE c.contype WHEN 'p' THEN 'primary key '
                 WHEN 'u' THEN 'unique constraint ' WHEN 'f' THEN 'foreign key '
                 WHEN 'x' THEN 'exclusion constraint ' WHEN 'c' THEN 'check constraint '
                 ELSE 'index ' END || coalesce(quote_ident(c.conname), i.oid::regclass::text)
             FROM pg_depend d
             LEFT JOIN pg_constraint c ON d.classid = 'pg_constraint'::regclass
                                          AND c.oid = d.objid AND c.contype <> 'n'
             LEFT JOIN pg_class i ON d.classid = 'pg_class'::regclass AND i.oid = d.objid
                                     AND i.relkind IN ('i', 'I')
             WHERE d.refclassid = 'pg_class'::regclass AND d.refobjid = a.attrelid
               AND d.refobjsubid = a.attnum AND d.deptype = 'a'
               AND coalesce(c.oid, i.oid) IS NOT NULL
             ORDER BY 1)
       , a.attidentity <> '', s.seqrelid::regclass::text, cardinality(a.attacl) > 0,
       a.attinhcount > 0,
       array(SELECT p.partrelid::regclass::text FROM pg_partition_tree(a.attrelid) r
             JOIN pg_partitioned_table p ON p.partrelid = r.relid
             JOIN pg_attribute k ON k.attrelid = p.partrelid AND k.attname = a.attname
             WHERE k.attnum = ANY (p.partattrs::int2[]) ORDER BY 1)
FROM pg_attribute a {_OWNED_SEQUENCE}
WHERE a.attrelid = to_regclass(%s) AND a.attname = %s AND a.attnum > 0 AND NOT a.attisdropped
"""


@dataclass(frozen=True)
class ColumnState:
    """What a recipe that drops or alters a column would trip over, or take along."""

    generated: bool
    not_null: bool
    users: list[str]  # what DROP COLUMN fails on: 'view v', 'constraint f on table t', ...
    taken: list[str]  # what DROP COLUMN drops with it: 'primary key p', 'index i', ...
    identity: bool = False
    sequence: str | None = None  # the sequence it owns (serial or identity), which DROP takes
    grants: bool = False  # column privileges, which DROP takes
    inherited: bool = False  # from a parent (a partition's column): only the parent's goes
    partition_keys: tuple[str, ...] = ()  # the partitioned tables whose key it is in


def column_state(cur: Cursor, table: str, column: str) -> ColumnState | None:
    """The column's ColumnState; None when the column is not there."""
    cur.execute(_COLUMN_STATE, (qualified(table), column))
    row = cur.fetchone()
    return ColumnState(row[0], row[1], list(row[2]), list(row[3]), *row[4:8],
                       tuple(row[8])) if row else None


def has_walk_key(cur: Cursor, table: str) -> bool:
    """Whether a backfill can walk ``table`` by a key (what it needs on a partitioned table,
    which has no ctid ranges): a valid unique index on NOT NULL columns, no expression."""
    cur.execute(
        "SELECT 1 FROM pg_index i WHERE i.indrelid = to_regclass(%s) AND i.indisunique "
        "AND i.indisvalid AND i.indimmediate AND i.indpred IS NULL AND i.indexprs IS NULL "
        "AND NOT EXISTS (SELECT 1 FROM pg_attribute a WHERE a.attrelid = i.indrelid "
        "AND a.attnum = ANY (i.indkey::int2[]) AND NOT a.attnotnull)", (qualified(table),))
    return cur.fetchone() is not None


# Whatever DROP TABLE (without CASCADE) fails on: objects that depend on the table or its row
# type and are not the table's own (views, other tables' foreign keys, functions, columns).
_TABLE_USERS = """
SELECT DISTINCT CASE WHEN d.classid = 'pg_rewrite'::regclass
                     THEN 'view ' || r.ev_class::regclass::text
                     ELSE pg_describe_object(d.classid, d.objid, d.objsubid) END
FROM pg_class t
JOIN pg_depend d ON d.deptype = 'n' AND (d.refclassid = 'pg_class'::regclass
                  AND d.refobjid = t.oid OR d.refclassid = 'pg_type'::regclass
                  AND d.refobjid = t.reltype)
LEFT JOIN pg_rewrite r ON d.classid = 'pg_rewrite'::regclass AND r.oid = d.objid
WHERE t.oid = to_regclass(%s) AND r.ev_class IS DISTINCT FROM t.oid
  AND NOT EXISTS (SELECT 1 FROM pg_depend o WHERE o.classid = d.classid AND o.objid = d.objid
                  AND o.refclassid = 'pg_class'::regclass AND o.refobjid = t.oid
                  AND o.deptype IN ('a', 'i'))
ORDER BY 1
"""


def table_users(cur: Cursor, table: str) -> list[str]:
    """What stops DROP TABLE ``table``: 'view v', 'constraint f on table t', 'function f()'."""
    cur.execute(_TABLE_USERS, (qualified(table),))
    return [row[0] for row in cur.fetchall()]


_TREE = """
WITH RECURSIVE tree AS (
  SELECT i.inhrelid AS oid, i.inhparent AS parent FROM pg_inherits i
  WHERE i.inhparent = to_regclass(%s)
  UNION ALL
  SELECT i.inhrelid, i.inhparent FROM tree JOIN pg_inherits i ON i.inhparent = tree.oid
)
SELECT t.oid, t.parent, n.nspname, c.relname, c.relkind
FROM tree t JOIN pg_class c ON c.oid = t.oid JOIN pg_namespace n ON n.oid = c.relnamespace
ORDER BY n.nspname, c.relname
"""


def partitions(cur: Cursor, table: str) -> tuple[Partition, ...]:
    """The partitions of the partitioned table ``table``, each with its own if it is
    partitioned too."""
    cur.execute(_TREE, (qualified(table),))
    rows = cur.fetchall()

    def under(parent: int | None) -> tuple[Partition, ...]:
        return tuple(Partition(schema, name, kind, under(oid) if kind == "p" else None)
                     for oid, of, schema, name, kind in rows if of == parent)

    cur.execute("SELECT to_regclass(%s)::oid", (qualified(table),))
    return under(cur.fetchone()[0])


def partition_keys(cur: Cursor, table: str) -> list[tuple[str, list[str] | None]]:
    """For ``table`` and each of its partitions that is partitioned too: its name and its
    partition key's columns (None when the key has an expression)."""
    cur.execute(
        "SELECT p.partrelid::regclass::text, CASE WHEN p.partexprs IS NULL THEN array("
        "  SELECT a.attname::text FROM unnest(p.partattrs::int2[]) AS k(attnum)"
        "  JOIN pg_attribute a ON a.attrelid = p.partrelid AND a.attnum = k.attnum) END "
        "FROM pg_partitioned_table p WHERE p.partrelid = to_regclass(%s) OR p.partrelid IN ("
        "  SELECT relid FROM pg_partition_tree(to_regclass(%s))) ORDER BY 1",
        (qualified(table), qualified(table)))
    return [(row[0], row[1]) for row in cur.fetchall()]


def swap_refusals(cur: Cursor, table: str) -> list[str]:
    """Why recipe partition-table could not swap the existing ``table`` now (empty when it
    could)."""
    from pgshift.recipes.partition_table import refusals_from

    cur.execute(refusals_from("to_regclass(%s)"), (qualified(table),))
    return [row[0] for row in cur.fetchall()]


def ask(settings: Settings, read: Callable[[Cursor], T]) -> T | None:
    """``read`` on a cursor of the database, or None when it cannot be reached: recipes are
    written without a database, and only ask it what they can."""
    from pgshift.db import connect

    try:
        conn = connect(settings)
    except DatabaseConnectionError:
        return None
    try:
        with conn.cursor() as cur:
            return read(cur)
    finally:
        conn.close()
