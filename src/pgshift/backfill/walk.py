"""How a backfill walks its table: keyset over the primary key, else ctid ranges.

Keyset: each batch covers ``key > last AND key <= next``, where ``next`` is the key ``size``
entries further along the key's index (row comparison for composite keys). Without a primary
key, a unique index on NOT NULL columns does as well. Without either, ctid (block) ranges
(``ctid >= '(b,0)' AND ctid < '(b+n,0)'``, a TID range scan on PostgreSQL 14+) are walked, but
only for an UPDATE with a WHERE that is false once a row is done: an updated row may move to a
later block and be met again. Partitioned tables need a key.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Protocol

from psycopg2 import sql

from pgshift.backfill.statement import BackfillStatement
from pgshift.errors import InputError

_TABLE = """
SELECT c.oid, n.nspname, c.relname, c.relkind, c.reltuples::bigint, c.relpages
FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
WHERE c.oid = to_regclass(CASE WHEN %(schema)s::text IS NULL THEN quote_ident(%(table)s)
                          ELSE quote_ident(%(schema)s) || '.' || quote_ident(%(table)s) END)
"""

# The primary key first, then unique, valid, non-partial indexes on plain NOT NULL columns.
_KEYS = """
SELECT i.indexrelid, array_agg(a.attname ORDER BY k.ord), array_agg(format_type(a.atttypid,
       a.atttypmod) ORDER BY k.ord)
FROM pg_index i
CROSS JOIN LATERAL unnest(i.indkey::int2[]) WITH ORDINALITY AS k(attnum, ord)
JOIN pg_attribute a ON a.attrelid = i.indrelid AND a.attnum = k.attnum
WHERE i.indrelid = %(oid)s AND i.indisunique AND i.indisvalid AND i.indimmediate
  AND i.indpred IS NULL AND i.indexprs IS NULL
GROUP BY i.indexrelid, i.indisprimary
HAVING bool_and(a.attnotnull) AND min(k.attnum) > 0
ORDER BY i.indisprimary DESC, count(*), i.indexrelid
LIMIT 1
"""


class Walk(Protocol):
    key_columns: list[str]
    keys_total: int | None

    def next_bound(self, cur: Any, last: list[str] | None, size: int) -> list[str] | None:
        """The last key of the next batch of ``size`` keys; None when fewer remain."""

    def range_sql(self, last: list[str] | None, upper: list[str] | None) -> sql.Composable:
        """The batch's condition on the statement's table."""


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

    def _order(self, descending: bool = False) -> sql.Composable:
        way = sql.SQL(" DESC" if descending else "")
        return sql.SQL(", ").join(sql.SQL("{}{}").format(sql.Identifier(c), way)
                                  for c in self.key_columns)

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
        cols = [sql.Identifier(self.reference, c) if qualified else sql.Identifier(c)
                for c in self.key_columns]
        return sql.SQL("({})").format(sql.SQL(", ").join(cols))

    def _values(self, key: list[str]) -> sql.Composable:
        return sql.SQL("({})").format(sql.SQL(", ").join(
            sql.SQL("{}::{}").format(sql.Literal(v), sql.SQL(t))
            for v, t in zip(key, self.key_types, strict=True)))

    def next_bound(self, cur: Any, last: list[str] | None, size: int) -> list[str] | None:
        if self.end is None:
            return None
        where = [sql.SQL("{} <= {}").format(self._row(False), self._values(self.end))]
        if last is not None:
            where.append(sql.SQL("{} > {}").format(self._row(False), self._values(last)))
        cur.execute(sql.SQL("SELECT ARRAY[{keys}] FROM {t} WHERE {where} ORDER BY {order} "
                            "OFFSET {skip} LIMIT 1").format(
            keys=self._keys(), t=self.table, where=sql.SQL(" AND ").join(where),
            skip=sql.Literal(size - 1), order=self._order()))
        row = cur.fetchone()
        return list(row[0]) if row else None

    def range_sql(self, last: list[str] | None, upper: list[str] | None) -> sql.Composable:
        parts: list[sql.Composable] = []
        if last is not None:
            parts.append(sql.SQL("{} > {}").format(self._row(True), self._values(last)))
        upper = upper or self.end  # the last batch: up to the end
        if upper is not None:
            parts.append(sql.SQL("{} <= {}").format(self._row(True), self._values(upper)))
        return sql.SQL(" AND ").join(parts) if parts else sql.SQL("true")


@dataclass
class CtidWalk:
    """Block ranges: ``last`` is the first block of the next batch; ``size`` counts blocks."""

    reference: str
    blocks: int
    key_columns: list[str]
    keys_total: int | None

    def next_bound(self, cur: Any, last: list[str] | None, size: int) -> list[str] | None:
        start = int(last[0]) if last else 0
        return [str(start + size)] if start + size < self.blocks else None

    def range_sql(self, last: list[str] | None, upper: list[str] | None) -> sql.Composable:
        ctid = sql.Identifier(self.reference, "ctid")
        parts: list[sql.Composable] = []
        if last is not None:
            parts.append(sql.SQL("{} >= {}::tid").format(ctid, sql.Literal(f"({last[0]},0)")))
        if upper is not None:
            parts.append(sql.SQL("{} < {}::tid").format(ctid, sql.Literal(f"({upper[0]},0)")))
        return sql.SQL(" AND ").join(parts) if parts else sql.SQL("true")


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
        walk = KeyWalk(info.ident, statement.reference, list(row[1]), list(row[2]), total)
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
    return CtidWalk(statement.reference, max(1, info.relpages), ["ctid"], max(1, info.relpages))


def _estimate(cur: Any, info: TableInfo) -> int | None:
    if info.reltuples >= 0 and not (info.reltuples == 0 and info.relpages > 0):
        return info.reltuples
    cur.execute(sql.SQL("SELECT count(*) FROM (SELECT FROM {} LIMIT 10000000) s").format(
        info.ident))
    return int(cur.fetchone()[0])


def refresh_blocks(cur: Any, walk: Walk, info: TableInfo) -> None:
    """A ctid walk covers the blocks the table has now (pg_relation_size, not stale relpages)."""
    if isinstance(walk, CtidWalk):
        cur.execute("SELECT pg_relation_size(%s) / current_setting('block_size')::int",
                    (info.oid,))
        walk.blocks = max(1, int(cur.fetchone()[0]))
        walk.keys_total = walk.blocks
