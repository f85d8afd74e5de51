"""What the database says about an existing column, for recipes that need it (best effort)."""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, TypeVar

from pgshift.errors import DatabaseConnectionError
from pgshift.recipes.model import ColumnInfo

if TYPE_CHECKING:
    from psycopg2.extensions import cursor as Cursor

    from pgshift.config import Settings

T = TypeVar("T")

_COLUMN = """
SELECT format_type(a.atttypid, a.atttypmod), a.attnotnull, pg_get_expr(d.adbin, d.adrelid)
FROM pg_attribute a LEFT JOIN pg_attrdef d ON d.adrelid = a.attrelid AND d.adnum = a.attnum
WHERE a.attrelid = to_regclass(%s) AND a.attname = %s AND a.attnum > 0 AND NOT a.attisdropped
"""


def column_info(settings: Settings, table: str, column: str) -> ColumnInfo | None:
    """The column's type, NOT NULL and default; None when the database or column is not there."""
    from pgshift.recipes.model import qualified

    def read(cur: Cursor) -> ColumnInfo | None:
        cur.execute(_COLUMN, (qualified(table), column))
        row = cur.fetchone()
        return ColumnInfo(row[0], bool(row[1]), row[2]) if row else None

    return _ask(settings, read)


# What a recipe that drops or alters a column would trip over half-way: it is generated, or a
# view or another column's generation expression uses it (DROP COLUMN then fails after the
# steps before it ran), or it is NOT NULL already.
_COLUMN_STATE = """
SELECT a.attgenerated <> '', a.attnotnull,
       array(SELECT DISTINCT CASE WHEN d.classid = 'pg_rewrite'::regclass
                                  THEN 'view ' || r.ev_class::regclass::text
                                  ELSE 'generated column ' || ad.adrelid::regclass::text || '.'
                                       || quote_ident(ga.attname) END
             FROM pg_depend d
             LEFT JOIN pg_rewrite r ON d.classid = 'pg_rewrite'::regclass AND r.oid = d.objid
             LEFT JOIN pg_attrdef ad ON d.classid = 'pg_attrdef'::regclass AND ad.oid = d.objid
             LEFT JOIN pg_attribute ga ON ga.attrelid = ad.adrelid AND ga.attnum = ad.adnum
             WHERE d.refclassid = 'pg_class'::regclass AND d.refobjid = a.attrelid
               AND d.refobjsubid = a.attnum AND d.deptype = 'n'
               AND (r.ev_class IS NOT NULL AND r.ev_class <> a.attrelid
                    OR ga.attgenerated <> '' AND ga.attnum <> a.attnum) ORDER BY 1)
FROM pg_attribute a
WHERE a.attrelid = to_regclass(%s) AND a.attname = %s AND a.attnum > 0 AND NOT a.attisdropped
"""


def column_refusals(settings: Settings, recipe: str, table: str, column: str) -> list[str]:
    """Why ``recipe`` would fail on the column half-way; empty when it would not, or when the
    database cannot be asked."""
    from pgshift.recipes.model import qualified

    def read(cur: Cursor) -> list[str]:
        cur.execute(_COLUMN_STATE, (qualified(table), column))
        row = cur.fetchone()
        if row is None:
            return []
        generated, not_null, users = row
        if recipe == "set-not-null":
            return [f"{column} is NOT NULL already"] if not_null else []
        found = [f"{column} is a generated column"] if generated else []
        return found + [f"{user} uses {column}" for user in users]

    return _ask(settings, read) or []


def swap_refusals(settings: Settings, table: str) -> list[str] | None:
    """Why recipe partition-table could not swap ``table`` now (empty when it could); None when
    the database or the table is not there to ask."""
    from pgshift.recipes.model import qualified
    from pgshift.recipes.partition_table import refusals_from

    def read(cur: Cursor) -> list[str] | None:
        cur.execute("SELECT to_regclass(%s)", (qualified(table),))
        if cur.fetchone()[0] is None:
            return None
        cur.execute(refusals_from("to_regclass(%s)"), (qualified(table),))
        return [row[0] for row in cur.fetchall()]

    return _ask(settings, read)


def _ask(settings: Settings, read: Callable[[Cursor], T]) -> T | None:
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
