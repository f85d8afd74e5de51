"""What the database says about an existing column, for recipes that need it (best effort)."""

from __future__ import annotations

from typing import TYPE_CHECKING

from pgshift.errors import DatabaseConnectionError
from pgshift.recipes.model import ColumnInfo

if TYPE_CHECKING:
    from pgshift.config import Settings

_COLUMN = """
SELECT format_type(a.atttypid, a.atttypmod), a.attnotnull, pg_get_expr(d.adbin, d.adrelid)
FROM pg_attribute a LEFT JOIN pg_attrdef d ON d.adrelid = a.attrelid AND d.adnum = a.attnum
WHERE a.attrelid = to_regclass(%s) AND a.attname = %s AND a.attnum > 0 AND NOT a.attisdropped
"""


def column_info(settings: Settings, table: str, column: str) -> ColumnInfo | None:
    """The column's type, NOT NULL and default; None when the database or column is not there."""
    from pgshift.db import connect
    from pgshift.recipes.model import qualified

    try:
        conn = connect(settings)
    except DatabaseConnectionError:
        return None
    try:
        with conn.cursor() as cur:
            cur.execute(_COLUMN, (qualified(table), column))
            row = cur.fetchone()
    finally:
        conn.close()
    return ColumnInfo(row[0], bool(row[1]), row[2]) if row else None


def swap_refusals(settings: Settings, table: str) -> list[str] | None:
    """Why recipe partition-table could not swap ``table`` now (empty when it could); None when
    the database or the table is not there to ask."""
    from pgshift.db import connect
    from pgshift.recipes.model import qualified
    from pgshift.recipes.partition_table import refusals_from

    try:
        conn = connect(settings)
    except DatabaseConnectionError:
        return None
    try:
        with conn.cursor() as cur:
            cur.execute("SELECT to_regclass(%s)", (qualified(table),))
            if cur.fetchone()[0] is None:
                return None
            cur.execute(refusals_from("to_regclass(%s)"), (qualified(table),))
            return [row[0] for row in cur.fetchall()]
    finally:
        conn.close()
