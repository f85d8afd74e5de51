"""What the database says about SQL a recipe would write, tried now on an empty temporary copy
of the table, in a transaction that is rolled back: a default that is no value of the column's
type, an index on a column that is not there, an operator class that does not fit, a type that
does not exist, a conversion that does not give the other column's type.

Nothing is read from the table but its columns, nothing is evaluated but what PostgreSQL
evaluates when it parses (and, under EXPLAIN, plans: a constant's cast), and nothing is kept.
A probe that cannot run (a read-only server, a lock that is not free at once) answers nothing,
and nothing is refused for it.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from pgshift.recipes.model import ident, qualified

if TYPE_CHECKING:
    from psycopg2.extensions import cursor as Cursor

_PROBE = "pgshift_recipe_probe"


@dataclass(frozen=True)
class Failure:
    """What PostgreSQL said when a probe's statement failed."""

    message: str  # its first line, as PostgreSQL says it
    missing: bool  # about an object the database lacks (a function, type, table, schema)


def error_of(cur: Cursor, setup: list[str], statement: str) -> str | None:
    """The error ``statement`` raises after ``setup`` (first line, as PostgreSQL says it), in
    a transaction rolled back; None when it runs, or when ``setup`` itself does not."""
    failure = failure_of(cur, setup, [statement])
    return failure.message if failure else None


def failure_of(cur: Cursor, setup: list[str], statements: list[str]) -> Failure | None:
    """How the first of ``statements`` that fails fails after ``setup``, each tried in turn
    in one transaction rolled back (see ``error_of``)."""
    import psycopg2
    from psycopg2 import errors

    if not all(_one_statement(statement) for statement in statements):
        return None  # the recipe's own parse says what is wrong; nothing else may run here
    cur.execute("BEGIN")
    try:
        cur.execute("SET LOCAL lock_timeout = '1s'; SET LOCAL statement_timeout = '10s'")
        try:
            for sql in setup:
                cur.execute(sql)
        except psycopg2.Error:
            return None
        for statement in statements:
            cur.execute("SAVEPOINT probe")
            try:
                cur.execute(statement)
            except (errors.QueryCanceled, errors.LockNotAvailable):
                return None
            except psycopg2.Error as exc:
                return Failure((exc.diag.message_primary or str(exc)).strip().splitlines()[0],
                               isinstance(exc, (errors.UndefinedFunction, errors.UndefinedObject,
                                                errors.UndefinedTable, errors.InvalidSchemaName)))
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


def column_type_failure(cur: Cursor, table: str, column: str, column_type: str
                        ) -> Failure | None:
    """How ``ADD COLUMN column column_type`` on ``table`` fails, if it does (no such type)."""
    return failure_of(cur, copy_of(table),
                      [f"ALTER TABLE {_PROBE} ADD COLUMN {ident(column)} {column_type}"])


def written_type(cur: Cursor, column_type: str) -> str | None:
    """``column_type`` as PostgreSQL writes a column's type (``format_type``: ``varchar(20)``
    reads ``character varying(20)``), tried on a temporary table rolled back; None when it
    is no type."""
    import psycopg2

    statement = f"CREATE TEMPORARY TABLE {_PROBE} (c {column_type})"
    if not _one_statement(statement):
        return None
    cur.execute("BEGIN")
    try:
        cur.execute("SET LOCAL lock_timeout = '1s'; SET LOCAL statement_timeout = '10s'")
        cur.execute(statement)
        cur.execute("SELECT format_type(atttypid, atttypmod) FROM pg_attribute "
                    f"WHERE attrelid = '{_PROBE}'::regclass AND attname = 'c'")
        row = cur.fetchone()
        return row[0] if row else None
    except psycopg2.Error:
        return None
    finally:
        cur.execute("ROLLBACK")


def conversion_failure(cur: Cursor, table: str, new_column: tuple[str, str], expression: str,
                       source: str, target: str) -> Failure | None:
    """Why ``expression``, written over the column ``source``, cannot fill ``target`` where
    change-column-type's migrations evaluate it, if it cannot, with ``new_column`` (name,
    type) added to the table: in the sync trigger, which sees no column but ``source``
    (``NEW.source`` there, a column of a subquery here), then in the backfill's UPDATE.
    EXPLAIN only: nothing runs."""
    from pgshift.recipes.sync import converted, filled

    column, column_type = new_column
    value = "pgshift_probe_value"
    return failure_of(cur, [*copy_of(table), f"ALTER TABLE {_PROBE} ADD COLUMN "
                            f"{ident(column)} {column_type}"], [
        f"EXPLAIN SELECT {converted(expression, source, 'o.' + value)} "
        f"FROM (SELECT {ident(source)} AS {value} FROM {_PROBE}) AS o",
        f"EXPLAIN {filled(_PROBE, target, source, expression)}"])


def check_failure(cur: Cursor, table: str, check: str) -> Failure | None:
    """How ``ADD CHECK (check)`` on ``table`` fails, if it does (NOT VALID: no row is read)."""
    return failure_of(cur, copy_of(table), [f"ALTER TABLE {_PROBE} ADD CHECK ({check}) NOT VALID"])


def partition_failure(cur: Cursor, table: str, partition: str, bounds: str
                      ) -> Failure | None:
    """How the partition ``partition`` (a name, unqualified), ``bounds`` (``FOR VALUES …`` or
    ``DEFAULT``), of the partitioned ``table`` fails on an empty copy partitioned the same
    way, if it does: values that are no values of the key, an empty range, bounds of another
    strategy. Overlaps aside: the copy has no partition."""
    cur.execute("SELECT pg_get_partkeydef(to_regclass(%s))", (qualified(table),))
    row = cur.fetchone()
    if row is None or row[0] is None:
        return None  # not a partitioned table: refused for that
    return failure_of(cur, [f"CREATE TEMPORARY TABLE {_PROBE} (LIKE {qualified(table)}) "
                            f"PARTITION BY {row[0]}"],
                      [f"CREATE TEMPORARY TABLE {_temporary(partition)} PARTITION OF "
                       f"{_PROBE} {bounds}"])


def cutoff_failure(cur: Cursor, table: str, key: str, partition: str, cutoff: str, until: str
                   ) -> Failure | None:
    """How partition-table's cutoff CHECK on ``table`` and its twin's first partition
    ``partition`` (FROM cutoff TO until, the twin partitioned by RANGE (key)) fail, if they
    do."""
    column = ident(key)
    return failure_of(cur, [*copy_of(table), f"CREATE TEMPORARY TABLE {_PROBE}_twin (LIKE "
                            f"{_PROBE}) PARTITION BY RANGE ({column})"], [
        f"ALTER TABLE {_PROBE} ADD CHECK ({column} IS NOT NULL AND {column} < {cutoff}) "
        "NOT VALID",
        f"CREATE TEMPORARY TABLE {_temporary(partition)} PARTITION OF {_PROBE}_twin "
        f"FOR VALUES FROM ({cutoff}) TO ({until})"])


def _temporary(name: str) -> str:
    """A temporary table's name for a probe: ``name``, as PostgreSQL's message names it."""
    return ident(name if not name.startswith(_PROBE) else f"{_PROBE}_partition")


def collatable(cur: Cursor, type_name: str) -> bool:
    """Whether ``type_name`` (as --type gives it) takes a collation; False when it is no
    type name the database knows (with a COLLATE of its own, say)."""
    return error_of(cur, [], f"SELECT NULL::{type_name} COLLATE \"default\"") is None \
        and error_of(cur, [], f"SELECT NULL::{type_name}") is None
