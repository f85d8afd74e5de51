"""The catalog rows the linter's picture of a live database is made of (``pgshift.lint.catalog``
builds the schema from them), and their fingerprint: read without importing the linter.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from psycopg2.extensions import connection as Connection

# Below this many rows (as the planner estimates) a table is small: a lock on it is brief.
# LintOptions.small_table_rows defaults to it; the up gate's memo uses it without LintOptions.
SMALL_TABLE_ROWS = 10_000

# The size only ever tells whether a relation is empty (see rows_estimate): a table with pages
# at its last VACUUM or ANALYZE has them still (TRUNCATE resets relpages), and only the others
# need pg_relation_size, which opens the relation's file (a fifth of this read on a big schema).
# One exception errs on the safe side: a table truncated in the transaction that created it
# keeps its relpages, so it counts as not empty until its next ANALYZE.
# A column's attgenerated is read through row_to_json (PostgreSQL 12 added it). Partition keys
# list "" for an expression column; a partition comes with its parent and its
# bounds (``FOR VALUES …``, as pg_get_expr prints them). Last come the key columns of each
# unique index ("" for an expression): ADD PRIMARY KEY USING INDEX sets them NOT NULL.
_SIZE_FROM_FILE = "ELSE pg_relation_size(c.oid) END"
# A table some session holds locked: its activity counters say whether it ever had a row.
_SIZE_FROM_STATISTICS = ("WHEN pg_stat_get_tuples_inserted(c.oid) + pg_stat_get_live_tuples("
                         "c.oid) > 0 THEN current_setting('block_size')::bigint ELSE 0 END")
_SIZE_LOCK_WAIT = "200ms"
_SAVEPOINT = "pgshift_catalog"
_RELATIONS = """
SELECT n.nspname, c.relname, c.relkind, c.reltuples::bigint,
       CASE WHEN c.relpages > 0 THEN c.relpages::bigint * current_setting('block_size')::bigint
            ELSE pg_relation_size(c.oid) END,
       COALESCE((SELECT array_agg(COALESCE(a.attname, '') ORDER BY k.ord)
                 FROM pg_partitioned_table p
                 CROSS JOIN LATERAL unnest(p.partattrs::int2[]) WITH ORDINALITY k(attnum, ord)
                 LEFT JOIN pg_attribute a ON a.attrelid = p.partrelid AND a.attnum = k.attnum
                 WHERE p.partrelid = c.oid), '{}'),
       COALESCE((SELECT json_agg(json_build_array(a.attname, format_type(a.atttypid,
                 a.atttypmod), a.attnotnull, a.atthasdef, row_to_json(a) ->> 'attgenerated')
                 ORDER BY a.attnum)
                 FROM pg_attribute a WHERE a.attrelid = c.oid AND a.attnum > 0
                 AND NOT a.attisdropped), '[]'),
       COALESCE((SELECT array_agg(DISTINCT a.attname) FROM pg_index i
                 JOIN pg_attribute a ON a.attrelid = i.indrelid AND a.attnum = ANY(i.indkey)
                 WHERE i.indrelid = c.oid), '{}'),
       COALESCE((SELECT array_agg(ic.relname) FROM pg_index i
                 JOIN pg_class ic ON ic.oid = i.indexrelid WHERE i.indrelid = c.oid), '{}'),
       (SELECT array[pn.nspname, pc.relname]::text[] FROM pg_inherits h
        JOIN pg_class pc ON pc.oid = h.inhparent JOIN pg_namespace pn ON pn.oid = pc.relnamespace
        WHERE h.inhrelid = c.oid AND c.relispartition),
       CASE WHEN c.relispartition THEN pg_get_expr(c.relpartbound, c.oid) END,
       (SELECT json_object_agg(ic.relname, (
                 SELECT array_agg(COALESCE(a.attname, '') ORDER BY k.ord)
                 FROM unnest(i.indkey::int2[]) WITH ORDINALITY k(attnum, ord)
                 LEFT JOIN pg_attribute a ON a.attrelid = i.indrelid AND a.attnum = k.attnum
                 WHERE k.ord <= i.indnkeyatts))
        FROM pg_index i JOIN pg_class ic ON ic.oid = i.indexrelid
        WHERE i.indrelid = c.oid AND i.indisunique)
FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
WHERE c.relkind IN ('r', 'p', 'v', 'm', 'f')
  AND n.nspname NOT IN ('pg_catalog', 'information_schema') AND n.nspname NOT LIKE 'pg_toast%'
"""
# A foreign key comes with the table it references (DROP and TRUNCATE … CASCADE lock it).
_CONSTRAINTS = """
SELECT n.nspname, c.relname, con.conname, con.contype, con.convalidated,
       CASE WHEN con.contype = 'c' THEN pg_get_expr(con.conbin, con.conrelid) END,
       COALESCE((SELECT array_agg(a.attname) FROM pg_attribute a
                 WHERE a.attrelid = con.conrelid AND a.attnum = ANY(con.conkey)), '{}'),
       (SELECT array[fn.nspname, fc.relname]::text[] FROM pg_class fc
        JOIN pg_namespace fn ON fn.oid = fc.relnamespace WHERE fc.oid = con.confrelid)
FROM pg_constraint con JOIN pg_class c ON c.oid = con.conrelid
JOIN pg_namespace n ON n.oid = c.relnamespace
WHERE n.nspname NOT IN ('pg_catalog', 'information_schema')
"""
# Enum and domain types (typtype e, d), and user functions' volatility as typtype "f" plus
# provolatile ("fi", "fs", "fv": one row per name and volatility). A domain comes with what
# makes ADD COLUMN of it rewrite the table: its base type, that base's name when it is a
# domain too, its NOT NULL, whether it has a default, its CHECKs' names (NOT VALID ones
# included: PostgreSQL checks new values against them all) and its default's expression (a
# volatile one is computed for every row).
_TYPES = """
SELECT n.nspname, t.typname, t.typtype::text, CASE WHEN t.typtype = 'd' THEN json_build_array(
         format_type(t.typbasetype, t.typtypmod), bn.nspname, b.typname, t.typnotnull,
         t.typdefaultbin IS NOT NULL,
         (SELECT COALESCE(json_agg(c.conname ORDER BY c.conname), '[]') FROM pg_constraint c
          WHERE c.contypid = t.oid AND c.contype = 'c'),
         pg_get_expr(t.typdefaultbin, 0))::text END
FROM pg_type t JOIN pg_namespace n ON n.oid = t.typnamespace
LEFT JOIN pg_type b ON b.oid = t.typbasetype AND b.typtype = 'd'
LEFT JOIN pg_namespace bn ON bn.oid = b.typnamespace
WHERE t.typtype IN ('e', 'd') AND n.nspname NOT IN ('pg_catalog', 'information_schema')
UNION
SELECT n.nspname, p.proname, 'f' || p.provolatile::text, NULL FROM pg_proc p
JOIN pg_namespace n ON n.oid = p.pronamespace
WHERE p.prokind = 'f' AND n.nspname NOT IN ('pg_catalog', 'information_schema')
"""
Catalog = tuple[list[tuple[Any, ...]], list[tuple[Any, ...]], list[tuple[Any, ...]], list[str]]


def fetch_catalog(conn: Connection) -> Catalog:
    """The catalog rows a schema is made of: relations, constraints, types, schema names.

    Read in one snapshot and without JIT. Once ``pg_class`` has churned (every migration that
    creates and drops tables leaves dead rows), its estimates put these reads above the JIT
    thresholds, and compiling them cost 30-50 ms, ten times what running them takes.
    """
    from psycopg2.errors import LockNotAvailable

    own_transaction = conn.autocommit  # else the caller's transaction holds the SET LOCAL
    begin = "BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY;" if own_transaction else ""
    with conn.cursor() as cur:
        try:
            # pg_relation_size takes a table's ACCESS SHARE lock: behind an app's LOCK TABLE it
            # would wait for as long as that lasts, whatever the timeouts. Tried under a short
            # lock_timeout in a savepoint (rolled back even when it succeeds: that undoes the
            # SET LOCAL in a caller's transaction), then read from the statistics instead.
            undo = f"ROLLBACK TO SAVEPOINT {_SAVEPOINT}; RELEASE SAVEPOINT {_SAVEPOINT};"
            try:
                cur.execute(f"{begin}SET LOCAL jit = off; SAVEPOINT {_SAVEPOINT}; "
                            f"SET LOCAL lock_timeout = '{_SIZE_LOCK_WAIT}';{_RELATIONS}")
                relations = cur.fetchall()
            except LockNotAvailable:
                cur.execute(undo + _RELATIONS.replace(_SIZE_FROM_FILE, _SIZE_FROM_STATISTICS))
                relations = cur.fetchall()
                undo = ""
            cur.execute(undo + _CONSTRAINTS)
            constraints = cur.fetchall()
            cur.execute(_TYPES)
            types = cur.fetchall()
            cur.execute("SELECT nspname FROM pg_namespace")
            names = [row[0] for row in cur.fetchall()]
        except BaseException:
            if own_transaction and not conn.closed:
                _end_quietly(cur)
            raise
        if own_transaction:
            cur.execute("COMMIT")
    return relations, constraints, types, names


def _end_quietly(cur: Any) -> None:
    import contextlib

    import psycopg2

    with contextlib.suppress(psycopg2.Error):  # the connection is gone: the error raised says why
        cur.execute("ROLLBACK")


def catalog_fingerprint(catalog: Catalog, small_table_rows: int, own_schema: str) -> str:
    """What the linter can tell from ``catalog``: its rows, with each relation's size reduced
    to whether it counts as tiny (row estimates change all the time; findings only see that),
    and without pgshift's own schema (its history grows with every migration) or sessions'
    temporary schemas."""
    import hashlib

    relations, constraints, types, names = catalog

    def shown(name: str) -> bool:  # sessions' temporary schemas come and go with them
        return name != own_schema and not name.startswith(("pg_temp_", "pg_toast_temp_"))

    reduced = []
    for row in relations:
        if shown(row[0]):
            rows = rows_estimate(row[3], row[4])
            reduced.append((*row[:3], rows is not None and rows < small_table_rows, *row[5:]))
    parts = [sorted(map(repr, reduced)),
             sorted(repr(row) for row in constraints if shown(row[0])),
             sorted(repr(row) for row in types if shown(row[0])),
             sorted(name for name in names if shown(name))]
    return hashlib.sha256(repr(parts).encode()).hexdigest()


def rows_estimate(tuples: int | None, size: int) -> int | None:
    # reltuples is an estimate (0 or -1 until the first VACUUM/ANALYZE): trust it only when
    # positive, or when the table has no pages at all.
    return 0 if size == 0 else (int(tuples) if tuples and tuples > 0 else None)
