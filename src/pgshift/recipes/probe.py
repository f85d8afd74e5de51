"""What the database says about SQL a recipe would write, tried now on an empty temporary copy
of the table, in a transaction that is rolled back: a default that is no value of the column's
type, an index on a column that is not there, an operator class that does not fit.

Nothing is read from the table but its columns, nothing is evaluated but what PostgreSQL
evaluates when it parses, and nothing is kept. A probe that cannot run (a read-only server, a
lock that is not free at once) answers nothing, and nothing is refused for it.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from pgshift.recipes.model import qualified

if TYPE_CHECKING:
    from psycopg2.extensions import cursor as Cursor

_PROBE = "pgshift_recipe_probe"


def error_of(cur: Cursor, setup: list[str], statement: str) -> str | None:
    """The error ``statement`` raises after ``setup`` (first line, as PostgreSQL says it), in
    a transaction rolled back; None when it runs, or when ``setup`` itself does not."""
    import psycopg2

    if not _one_statement(statement):
        return None  # the recipe's own parse says what is wrong; nothing else may run here
    cur.execute("BEGIN")
    try:
        cur.execute("SET LOCAL lock_timeout = '1s'; SET LOCAL statement_timeout = '10s'")
        try:
            for sql in setup:
                cur.execute(sql)
        except psycopg2.Error:
            return None
        cur.execute("SAVEPOINT probe")
        try:
            cur.execute(statement)
        except (psycopg2.errors.QueryCanceled, psycopg2.errors.LockNotAvailable):
            return None
        except psycopg2.Error as exc:
            return (exc.diag.message_primary or str(exc)).strip().splitlines()[0]
        return None
    finally:
        cur.execute("ROLLBACK")


def _one_statement(statement: str) -> bool:
    import pglast

    try:
        return len(pglast.parse_sql(statement)) == 1
    except pglast.parser.ParseError:
        return False


def copy_of(table: str) -> list[str]:
    """The setup of a probe on ``table``'s columns (types, collations; no rows)."""
    return [f"CREATE TEMPORARY TABLE {_PROBE} (LIKE {qualified(table)})"]


def default_error(cur: Cursor, table: str, column_type: str, default: str) -> str | None:
    """Why ``SET DEFAULT default`` on a new column of ``table`` of ``column_type`` fails, if it
    does (a default that names a column is refused as PostgreSQL refuses it)."""
    return error_of(cur, copy_of(table),
                    f"ALTER TABLE {_PROBE} ADD COLUMN pgshift_c {column_type}, "
                    f"ALTER COLUMN pgshift_c SET DEFAULT {default}")


def index_error(cur: Cursor, table: str, columns: str) -> str | None:
    """Why an index on ``table`` (``columns``) cannot be built, if it cannot."""
    return error_of(cur, copy_of(table), f"CREATE INDEX ON {_PROBE} ({columns})")


def collatable(cur: Cursor, type_name: str) -> bool:
    """Whether ``type_name`` (as --type gives it) takes a collation; False when it is no
    type name the database knows (with a COLLATE of its own, say)."""
    return error_of(cur, [], f"SELECT NULL::{type_name} COLLATE \"default\"") is None \
        and error_of(cur, [], f"SELECT NULL::{type_name}") is None
