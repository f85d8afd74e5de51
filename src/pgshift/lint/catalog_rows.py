"""The catalog rows the linter's picture of a live database is made of (``pgshift.lint.catalog``
builds the schema from them), and their fingerprint: read without importing the linter.
"""

from __future__ import annotations

from collections.abc import Callable
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
# A column's attgenerated is NULL before PostgreSQL 12, which added it. Partition keys
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
       CASE WHEN c.relkind <> 'p' THEN '{}' ELSE COALESCE((
                 SELECT array_agg(COALESCE(a.attname, '') ORDER BY k.ord)
                 FROM pg_partitioned_table p
                 CROSS JOIN LATERAL unnest(p.partattrs::int2[]) WITH ORDINALITY k(attnum, ord)
                 LEFT JOIN pg_attribute a ON a.attrelid = p.partrelid AND a.attnum = k.attnum
                 WHERE p.partrelid = c.oid), '{}') END,
       COALESCE((SELECT json_agg(json_build_array(a.attname, format_type(a.atttypid,
                 a.atttypmod), a.attnotnull, a.atthasdef, ATTGENERATED)
                 ORDER BY a.attnum)
                 FROM pg_attribute a WHERE a.attrelid = c.oid AND a.attnum > 0
                 AND NOT a.attisdropped), '[]'),
       COALESCE((SELECT array_agg(DISTINCT a.attname) FROM pg_index i
                 JOIN pg_attribute a ON a.attrelid = i.indrelid AND a.attnum = ANY(i.indkey)
                 WHERE i.indrelid = c.oid), '{}'),
       COALESCE((SELECT array_agg(ic.relname) FROM pg_index i
                 JOIN pg_class ic ON ic.oid = i.indexrelid WHERE i.indrelid = c.oid), '{}'),
       CASE WHEN c.relispartition THEN (SELECT array[pn.nspname, pc.relname]::text[]
        FROM pg_inherits h JOIN pg_class pc ON pc.oid = h.inhparent
        JOIN pg_namespace pn ON pn.oid = pc.relnamespace WHERE h.inhrelid = c.oid) END,
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
       CASE WHEN fc.oid IS NOT NULL THEN array[fn.nspname, fc.relname]::text[] END
FROM pg_constraint con JOIN pg_class c ON c.oid = con.conrelid
JOIN pg_namespace n ON n.oid = c.relnamespace
LEFT JOIN pg_class fc ON fc.oid = con.confrelid
LEFT JOIN pg_namespace fn ON fn.oid = fc.relnamespace
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

# Each part of the catalog: its query and the names of its columns (the first is the schema).
_PARTS = (
    (_RELATIONS, "nsp, name, kind, tuples, size, partkey, cols, indexed, indexes, parent, bound,"
                 " uniques"),
    (_CONSTRAINTS, "nsp, name, conname, contype, validated, expr, keys, referenced"),
    (_TYPES, "nsp, name, typtype, detail"),
    ("SELECT nspname FROM pg_namespace", "nsp"),
)
# What catalog_fingerprint reads of each part's row: a relation's size and row estimate only
# as whether the table counts as tiny (rows_estimate, below SMALL), the other parts whole.
_SHOWN_RELATION = ("ROW(r.nsp, r.name, r.kind, CASE WHEN r.size = 0 THEN 0 < SMALL WHEN r.tuples"
                   " > 0 THEN r.tuples < SMALL ELSE false END, r.partkey, r.cols, r.indexed, "
                   "r.indexes, r.parent, r.bound, r.uniques)::text")
# A part's rows behind a first row that holds only the fingerprint of what the linter sees of
# them (pgshift's own schema and sessions' temporary schemas left out, in a fixed order), or
# NULL: either way it reads r whole, so the first FETCH computes all the rows (the relations'
# sizes under the short lock_timeout), kept by the server for a FETCH ALL when needed.
_BEHIND = """
WITH r({columns}) AS ({query}), d AS ({digest})
SELECT d.digest, r.* FROM d LEFT JOIN r ON false
UNION ALL
SELECT NULL, r.* FROM r
"""
_DIGEST = """
SELECT encode(sha256(convert_to(COALESCE(string_agg({shown}, E'\\n' ORDER BY {shown}
       COLLATE "C"), ''), 'UTF8')), 'hex') AS digest
FROM r WHERE r.nsp <> {own} AND r.nsp NOT LIKE 'pg\\_temp\\_%'
  AND r.nsp NOT LIKE 'pg\\_toast\\_temp\\_%'
"""


def fetch_catalog(conn: Connection) -> Catalog:
    """The catalog rows a schema is made of: relations, constraints, types, schema names.

    Read in one snapshot and without JIT. Once ``pg_class`` has churned (every migration that
    creates and drops tables leaves dead rows), its estimates put these reads above the JIT
    thresholds, and compiling them cost 30-50 ms, ten times what running them takes.
    """
    catalog = _read(conn, None)[1]
    assert catalog is not None
    return catalog


def fetch_catalog_unless(
    conn: Connection, known: Callable[[str], bool], small_table_rows: int, own_schema: str,
) -> tuple[str, Catalog | None]:
    """The fingerprint of the catalog as ``catalog_fingerprint`` reduces it (computed by the
    server), and its rows unless ``known(fingerprint)``: in one snapshot, the rows computed
    once, and only the fingerprint sent when it is known (a big schema's rows are tens of MB).
    """
    return _read(conn, (known, small_table_rows, own_schema))


def _read(conn: Connection, fingerprint: tuple[Callable[[str], bool], int, str] | None
          ) -> tuple[str, Catalog | None]:
    own_transaction = conn.autocommit  # else the caller's transaction holds the SET LOCAL
    with conn.cursor() as cur:
        try:
            if own_transaction:
                cur.execute("BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY")
            cur.execute("SET LOCAL jit = off")
            queries = _queries(conn, fingerprint)
            digests = [_open_relations(cur, queries[0])]
            digests += [_open(cur, i, query) for i, query in enumerate(queries) if i]
            digest = ""
            if fingerprint is not None:
                import hashlib

                digest = hashlib.sha256("\0".join(digests).encode()).hexdigest()
            catalog = None
            if fingerprint is None or not fingerprint[0](digest):
                parts = [_fetch_all(cur, i) for i in range(len(queries))]
                catalog = (parts[0], parts[1], parts[2], [row[0] for row in parts[3]])
            cur.execute(f"CLOSE {_CURSOR}0; CLOSE {_CURSOR}1; CLOSE {_CURSOR}2; CLOSE {_CURSOR}3")
        except BaseException:
            if own_transaction and not conn.closed:
                _end_quietly(cur)
            raise
        if own_transaction:
            cur.execute("COMMIT")
    return digest, catalog


_CURSOR = "pgshift_catalog_"


def _queries(conn: Connection, fingerprint: tuple[Callable[[str], bool], int, str] | None
             ) -> list[str]:
    """Each part's query: behind its fingerprint's row when one is wanted, else a NULL."""
    from psycopg2 import sql

    generated = "a.attgenerated::text" if conn.server_version >= 120000 else "NULL::text"
    queries = []
    for i, (query, columns) in enumerate(_PARTS):
        digest = "SELECT CASE WHEN count(*) < 0 THEN '' END AS digest FROM r"  # reads r all
        if fingerprint is not None:
            shown = _SHOWN_RELATION.replace("SMALL", str(int(fingerprint[1]))) if i == 0 else (
                "r::text")
            digest = _DIGEST.format(shown=shown,
                                    own=sql.Literal(fingerprint[2]).as_string(conn))
        query = query.replace("ATTGENERATED", generated)
        queries.append(_BEHIND.format(columns=columns, query=query, digest=digest))
    return queries


def _open_relations(cur: Any, query: str) -> str:
    """Open the relations' cursor and compute its rows, which reads relations' sizes.

    pg_relation_size takes a table's ACCESS SHARE lock: behind an app's LOCK TABLE it would
    wait for as long as that lasts, whatever the timeouts. Tried under a short lock_timeout
    in a savepoint, then read from the statistics instead. The first FETCH computes all the
    rows, so the caller's lock_timeout is back (the savepoint released, the cursor kept)
    before anything else is read.
    """
    from psycopg2.errors import LockNotAvailable

    cur.execute("SELECT current_setting('lock_timeout')")
    wait = cur.fetchone()[0]
    cur.execute(f"SAVEPOINT {_SAVEPOINT}; SET LOCAL lock_timeout = '{_SIZE_LOCK_WAIT}'")
    try:
        digest = _open(cur, 0, query)
    except LockNotAvailable:
        cur.execute(f"ROLLBACK TO SAVEPOINT {_SAVEPOINT}; RELEASE SAVEPOINT {_SAVEPOINT}")
        return _open(cur, 0, query.replace(_SIZE_FROM_FILE, _SIZE_FROM_STATISTICS))
    cur.execute(f"RELEASE SAVEPOINT {_SAVEPOINT}; "
                "SELECT set_config('lock_timeout', %s, true)", (wait,))
    return digest


def _open(cur: Any, part: int, query: str) -> str:
    """Declare part ``part``'s cursor and fetch its first row: the fingerprint (or NULL)."""
    cur.execute(f"DECLARE {_CURSOR}{part} NO SCROLL CURSOR FOR {query}; "
                f"FETCH 1 FROM {_CURSOR}{part}")
    return cur.fetchone()[0] or ""


def _fetch_all(cur: Any, part: int) -> list[tuple[Any, ...]]:
    cur.execute(f"FETCH ALL FROM {_CURSOR}{part}")
    return [row[1:] for row in cur.fetchall()]


def _end_quietly(cur: Any) -> None:
    import contextlib

    import psycopg2

    with contextlib.suppress(psycopg2.Error):  # the connection is gone: the error raised says why
        cur.execute("ROLLBACK")


def catalog_fingerprint(catalog: Catalog, small_table_rows: int, own_schema: str) -> str:
    """What the linter can tell from ``catalog``: its rows, with each relation's size reduced
    to whether it counts as tiny (row estimates change all the time; findings only see that),
    and without pgshift's own schema (its history grows with every migration) or sessions'
    temporary schemas. The up gate has the server reduce the rows the same way
    (``fetch_catalog_unless``: _SHOWN_RELATION, _DIGEST): change both together."""
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
