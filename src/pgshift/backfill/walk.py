"""How a backfill walks its table: keyset over the primary key, else ctid ranges.

Keyset: each batch covers ``key > last AND key <= next``, where ``next`` is the key ``size``
entries further along the key's index (row comparison for composite keys, in the index's
collation). Without a primary key, a unique index on NOT NULL columns does as well. Without
either, ctid (block) ranges (``ctid >= '(b,0)' AND ctid < '(b+n,0)'``, a TID range scan on
PostgreSQL 14+) are walked, but only for an UPDATE with a WHERE that is false once a row is
done: an updated row may move to another block and be met again. A batch of a ctid walk is as
many blocks as hold about ``size`` rows. The walk follows the table as it grows, and walks it
again until a whole pass finds no row to update (at most ``CTID_PASSES``): a row the
application updates meanwhile may move into a block already walked. Each batch checks that its
WHERE no longer holds for the rows it wrote (``pgshift.backfill.batched``). Partitioned
tables need a key; a table that others inherit from needs one too, or ``UPDATE ONLY``.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any, Protocol

from psycopg2 import sql

from pgshift.backfill.identity import of_ctid, of_key
from pgshift.backfill.statement import BackfillStatement
from pgshift.errors import InputError

_TABLE = """
SELECT c.oid, n.nspname, c.relname, c.relkind, c.reltuples::bigint, c.relpages
FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
WHERE c.oid = to_regclass(CASE WHEN %(schema)s::text IS NULL THEN quote_ident(%(table)s)
                          ELSE quote_ident(%(schema)s) || '.' || quote_ident(%(table)s) END)
"""

# The primary key first, then unique, valid, non-partial indexes on plain NOT NULL columns,
# those an ascending walk in the default operator class can use before the others. With each
# column: its collation in the index when it is not the column's (NULL otherwise), and the
# collation the index sorts it by (NULL: none, or the database's default, oid 100), for the
# walk's identity.
_KEYS = """
SELECT i.indexrelid, array_agg(a.attname ORDER BY k.ord), array_agg(format_type(a.atttypid,
       a.atttypmod) ORDER BY k.ord), array_agg(CASE WHEN k.coll <> a.attcollation THEN
       (SELECT format('%%I.%%I', cn.nspname, co.collname) FROM pg_collation co
        JOIN pg_namespace cn ON cn.oid = co.collnamespace WHERE co.oid = k.coll) END
       ORDER BY k.ord), array_agg((SELECT format('%%I.%%I', cn.nspname, co.collname)
       FROM pg_collation co JOIN pg_namespace cn ON cn.oid = co.collnamespace
       WHERE co.oid = k.coll AND k.coll <> 100) ORDER BY k.ord)
FROM pg_index i
CROSS JOIN LATERAL unnest(i.indkey::int2[], i.indcollation::oid[], i.indoption::int2[],
                          i.indclass::oid[]) WITH ORDINALITY AS k(attnum, coll, opt, cls, ord)
JOIN pg_attribute a ON a.attrelid = i.indrelid AND a.attnum = k.attnum
JOIN pg_opclass oc ON oc.oid = k.cls
WHERE i.indrelid = %(oid)s AND i.indisunique AND i.indisvalid AND i.indimmediate
  AND i.indpred IS NULL AND i.indexprs IS NULL
GROUP BY i.indexrelid, i.indisprimary
HAVING bool_and(a.attnotnull) AND min(k.attnum) > 0
ORDER BY i.indisprimary DESC, bool_and(k.opt = 0 AND oc.opcdefault) DESC, count(*), i.indexrelid
LIMIT 1
"""

# Rows now, estimated as the planner does: each leaf's reltuples scaled to its size now.
# NULL when a leaf was never analyzed or vacuumed (or its pages came after the last one).
_ESTIMATE = """
SELECT CASE WHEN bool_and(c.reltuples >= 0 AND NOT (c.relpages = 0 AND s.pages > 0))
       THEN sum(CASE WHEN c.relpages > 0 THEN c.reltuples / c.relpages * s.pages
                ELSE c.reltuples END)::bigint END
FROM pg_partition_tree(%(oid)s) p JOIN pg_class c ON c.oid = p.relid
CROSS JOIN LATERAL (SELECT pg_relation_size(c.oid) / current_setting('block_size')::int
                    AS pages) s
WHERE p.isleaf
"""

_BLOCKS = "SELECT pg_relation_size(%s) / current_setting('block_size')::int"

# Passes a ctid walk makes at most: the first, then again while a pass found rows to update.
CTID_PASSES = 4


class Walk(Protocol):
    key_columns: list[str]
    keys_total: int | None

    @property
    def identity(self) -> str:
        """Which table, in which key order (see ``pgshift.backfill.identity``)."""

    @property
    def rows_total(self) -> int | None:
        """The rows of the table (an estimate)."""

    def units(self, rows: int) -> int:
        """How many of the walk's keys hold about ``rows`` rows."""

    def next_batch(self, cur: Any, last: list[str] | None, size: int
                   ) -> tuple[list[str] | None, int]:
        """The next batch of ``size`` keys after ``last``: (its last key, its keys); the key
        is None for the last batch, which goes to the end of the walk."""

    def range_sql(self, last: list[str] | None, upper: list[str] | None) -> sql.Composable:
        """The batch's condition on the statement's table."""

    def more(self, rows: int) -> bool:
        """After the last batch of a pass that updated ``rows``: whether to walk again."""

    def restart(self, cur: Any) -> None:
        """Begin the next pass (after ``more``)."""


@dataclass
class KeyWalk:
    """Keyset over ``key_columns`` (the primary key or a unique NOT NULL index), up to ``end``,
    the last key when the walk started (None: the table was empty).

    The end is fixed so that the walk ends: a row whose key the update moves ahead (its SET,
    or a trigger) would otherwise be met again and again. Rows inserted after the start are
    the application's to write, as the expand step sets it up to (a default, a sync trigger).
    """

    table: sql.Composed
    reference: str
    key_columns: list[str]
    key_types: list[str]
    keys_total: int | None
    end: list[str] | None = None
    collations: list[str | None] = field(default_factory=list)  # the index's, when not the column's
    identity: str = ""  # see pgshift.backfill.identity

    def _column(self, column: str, qualified: bool, position: int) -> sql.Composable:
        ident = sql.Identifier(self.reference, column) if qualified else sql.Identifier(column)
        collation = self.collations[position] if position < len(self.collations) else None
        return sql.SQL("{} COLLATE {}").format(ident, sql.SQL(collation)) if collation else ident

    def _order(self, descending: bool = False) -> sql.Composable:
        way = sql.SQL(" DESC" if descending else "")
        return sql.SQL(", ").join(sql.SQL("{}{}").format(self._column(c, False, i), way)
                                  for i, c in enumerate(self.key_columns))

    def _keys(self) -> sql.Composable:
        return sql.SQL(", ").join(sql.SQL("{}::text").format(sql.Identifier(c))
                                  for c in self.key_columns)

    def find_end(self, cur: Any) -> None:
        """Fix ``end`` at the table's last key now."""
        cur.execute(sql.SQL("SELECT ARRAY[{keys}] FROM {t} ORDER BY {order} LIMIT 1").format(
            keys=self._keys(), t=self.table, order=self._order(descending=True)))
        row = cur.fetchone()
        self.end = list(row[0]) if row else None

    def _row(self, qualified: bool) -> sql.Composable:
        return sql.SQL("({})").format(sql.SQL(", ").join(
            self._column(c, qualified, i) for i, c in enumerate(self.key_columns)))

    def _values(self, key: list[str]) -> sql.Composable:
        return sql.SQL("({})").format(sql.SQL(", ").join(
            sql.SQL("{}::{}").format(sql.Literal(v), sql.SQL(t))
            for v, t in zip(key, self.key_types, strict=True)))

    @property
    def rows_total(self) -> int | None:
        return self.keys_total

    def units(self, rows: int) -> int:
        return rows

    def next_batch(self, cur: Any, last: list[str] | None, size: int
                   ) -> tuple[list[str] | None, int]:
        if self.end is None:
            return None, 0
        where = [sql.SQL("{} <= {}").format(self._row(False), self._values(self.end))]
        if last is not None:
            where.append(sql.SQL("{} > {}").format(self._row(False), self._values(last)))
        cur.execute(sql.SQL(
            "SELECT ARRAY[{keys}], count(*) OVER () FROM (SELECT {columns} FROM {t} "
            "WHERE {where} ORDER BY {order} LIMIT {size}) s ORDER BY {desc} LIMIT 1").format(
            keys=self._keys(), columns=sql.SQL(", ").join(map(sql.Identifier, self.key_columns)),
            t=self.table, where=sql.SQL(" AND ").join(where), size=sql.Literal(size),
            order=self._order(), desc=self._order(descending=True)))
        row = cur.fetchone()
        if row is None:
            return None, 0
        upper, keys = list(row[0]), int(row[1])
        return (None if keys < size or upper == self.end else upper), keys

    def range_sql(self, last: list[str] | None, upper: list[str] | None) -> sql.Composable:
        upper = upper or self.end  # the last batch: up to the end
        if upper is None:
            return sql.SQL("false")  # the table was empty: rows since are the application's
        parts: list[sql.Composable] = []
        if last is not None:
            parts.append(sql.SQL("{} > {}").format(self._row(True), self._values(last)))
        parts.append(sql.SQL("{} <= {}").format(self._row(True), self._values(upper)))
        return sql.SQL(" AND ").join(parts)

    def more(self, rows: int) -> bool:
        return False

    def restart(self, cur: Any) -> None:
        raise AssertionError("a key walk makes one pass")


@dataclass
class CtidWalk:
    """Block ranges: ``last`` is the first block of the next batch, ``size`` counts blocks
    (``units`` turns rows into blocks), ``keys_total`` the blocks of every pass so far."""

    reference: str
    oid: int
    blocks: int
    key_columns: list[str]
    keys_total: int | None
    rows_per_block: float = 1.0
    passes: int = 1
    walked: int = 0  # blocks of the passes before this one
    partial: bool = False  # this pass began before a resume: it saw only part of the table

    @property
    def rows_total(self) -> int | None:
        return int(self.blocks * self.rows_per_block)

    @property
    def identity(self) -> str:
        return of_ctid(self.oid)

    def units(self, rows: int) -> int:
        return max(1, math.ceil(rows / self.rows_per_block))

    def refresh(self, cur: Any) -> None:
        """The table's size now: the walk follows it as it grows (updated rows move)."""
        cur.execute(_BLOCKS, (self.oid,))
        self.blocks = max(1, int(cur.fetchone()[0]))
        self.keys_total = self.walked + self.blocks

    def next_batch(self, cur: Any, last: list[str] | None, size: int
                   ) -> tuple[list[str] | None, int]:
        start = int(last[0]) if last else 0
        if start + size >= self.blocks:
            self.refresh(cur)
        if start + size < self.blocks:
            return [str(start + size)], size
        return None, max(0, self.blocks - start)

    def range_sql(self, last: list[str] | None, upper: list[str] | None) -> sql.Composable:
        ctid = sql.Identifier(self.reference, "ctid")
        parts: list[sql.Composable] = []
        if last is not None:
            parts.append(sql.SQL("{} >= {}::tid").format(ctid, sql.Literal(f"({last[0]},0)")))
        if upper is not None:
            parts.append(sql.SQL("{} < {}::tid").format(ctid, sql.Literal(f"({upper[0]},0)")))
        return sql.SQL(" AND ").join(parts) if parts else sql.SQL("true")

    def resume_at(self, last: list[str] | None, keys_done: int) -> None:
        """Go on from a checkpoint: this pass began in an earlier run (and saw only what
        remained of the table), after passes that walked the rest of ``keys_done``."""
        self.partial = last is not None
        self.walked = max(0, keys_done - int(last[0])) if last else keys_done
        self.keys_total = self.walked + self.blocks

    def more(self, rows: int) -> bool:
        return (rows > 0 or self.partial) and self.passes < CTID_PASSES

    def restart(self, cur: Any) -> None:
        self.passes += 1
        self.partial = False
        self.walked += self.blocks
        self.refresh(cur)


@dataclass(frozen=True)
class TableInfo:
    oid: int
    schema: str
    name: str
    kind: str
    reltuples: int
    relpages: int

    @property
    def ident(self) -> sql.Composed:
        return sql.SQL("{}.{}").format(sql.Identifier(self.schema), sql.Identifier(self.name))


# What a backfill may walk: tables. Views have no key or ctid of their own to walk (backfill
# the table under the view); foreign and materialized ones are not updated batch by batch.
_WALKABLE = {"r": "table", "p": "partitioned table"}
_KINDS = {"v": "a view", "m": "a materialized view", "f": "a foreign table", "S": "a sequence",
          "i": "an index", "I": "an index", "c": "a composite type", "t": "a TOAST table"}
# The server's own schemas: updating a catalog row by row can break the whole database.
_SYSTEM_SCHEMAS = ("pg_catalog", "information_schema")


def table_info(cur: Any, statement: BackfillStatement, own_schema: str | None = None
               ) -> TableInfo:
    """The table ``statement`` updates; InputError when there is none, or when it is not a
    table a backfill may walk: a view, a system catalog, or pgshift's own (``own_schema``)."""
    cur.execute(_TABLE, {"schema": statement.schema, "table": statement.table})
    row = cur.fetchone()
    if row is None:
        raise InputError(f"table {statement.qualified} does not exist",
                         hint="check the name (and schema) in the backfill UPDATE")
    info = TableInfo(*row)
    if info.schema in _SYSTEM_SCHEMAS or info.schema.startswith("pg_toast"):
        raise InputError(f"{info.schema}.{info.name} is a system catalog: pgshift does not "
                         "backfill PostgreSQL's own tables",
                         hint="name one of the application's tables (schema-qualify it if "
                              "its name is also a catalog's)")
    if own_schema is not None and info.schema == own_schema:
        raise InputError(f"{info.schema}.{info.name} is one of pgshift's own tables",
                         hint="pgshift keeps them itself; use 'pgshift repair' for history")
    if info.kind not in _WALKABLE:
        what = _KINDS.get(info.kind, f"a relation of kind '{info.kind}'")
        raise InputError(f"{statement.qualified} is {what}, not a table",
                         hint="backfill the table it reads from")
    return info


def choose_walk(cur: Any, statement: BackfillStatement, info: TableInfo) -> Walk:
    """A KeyWalk when the table has a usable key, else a CtidWalk, else InputError."""
    cur.execute(_KEYS, {"oid": info.oid})
    row = cur.fetchone()
    total = _estimate(cur, info)
    if row is not None:
        moved = [column for column in row[1] if column in statement.assigned]
        if moved:  # the walk would meet the rows it moved ahead of it again, without end
            raise InputError(
                f"the backfill sets {', '.join(moved)}, the key it walks "
                f"{statement.qualified} by: each batch would move rows ahead of the walk",
                hint="change a key in one UPDATE (or in batches keyed by another column)")
        walk = KeyWalk(info.ident, statement.reference, list(row[1]), list(row[2]), total,
                       collations=list(row[3]),
                       identity=of_key(info.oid, list(row[2]), list(row[4])))
        walk.find_end(cur)
        return walk
    if info.kind == "p":
        raise InputError(f"partitioned table {statement.qualified} has no primary key to walk",
                         hint="add a primary key, or backfill each partition")
    if statement.predicate is None:
        raise InputError(
            f"table {statement.qualified} has no primary key (nor a unique NOT NULL index)",
            hint="pgshift then walks ctid ranges, which needs a WHERE that is false for rows "
                 "already done, e.g. 'WHERE new_col IS NULL'; or add a primary key")
    if not statement.only and _inherited(cur, info):
        raise InputError(
            f"table {statement.qualified} has no primary key (nor a unique NOT NULL index), "
            "and other tables inherit from it: its ctid ranges do not cover theirs",
            hint=f"backfill 'ONLY {statement.qualified}', then each table that inherits from "
                 "it; or add a primary key")
    walk = CtidWalk(statement.reference, info.oid, 1, ["ctid"], None)
    walk.refresh(cur)
    walk.rows_per_block = max(1.0, (total or 0) / walk.blocks)
    return walk


def _inherited(cur: Any, info: TableInfo) -> bool:
    cur.execute("SELECT EXISTS (SELECT FROM pg_inherits WHERE inhparent = %s)", (info.oid,))
    return bool(cur.fetchone()[0])


def _estimate(cur: Any, info: TableInfo) -> int:
    cur.execute(_ESTIMATE, {"oid": info.oid})
    (estimate,) = cur.fetchone()
    if estimate is not None:
        return max(0, int(estimate))
    cur.execute(sql.SQL("SELECT count(*) FROM (SELECT FROM {} LIMIT 10000000) s").format(
        info.ident))
    return int(cur.fetchone()[0])
