"""The history table's rows: read, and the SQL that writes them in a migration's transaction.

A versioned migration has exactly one row, keyed by its normalised version, while it is applied
(or failed, or interrupted); rolling it back deletes the row in the down's own transaction.
A baseline migration's key is ``B:`` and its version. Repeatable migrations are keyed by file
name and keep the checksum last applied. The table is made and upgraded by
``pgshift.state.upgrades``.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from functools import lru_cache
from typing import TYPE_CHECKING, Any, Literal

from psycopg2 import sql

if TYPE_CHECKING:
    from collections.abc import Callable, Sequence

    from psycopg2.extensions import connection as Connection
    from psycopg2.extensions import cursor as Cursor

    from pgshift.migrations.model import Migration, Version

RowStatus = Literal["applied", "failed", "running", "reverting"]

# Cast as pgshift made them: a column retyped by hand reads as before or fails to read (a
# DriftError), rather than handing a string where a timestamp belongs.
_COLUMNS = (
    "key::text, version::text, description::text, kind::text, script::text, checksum::text, "
    "status::text, transactional::boolean, statements_done::integer, applied_by::text, "
    "applied_at::timestamptz, duration_ms::bigint, error::text"
)


@dataclass(frozen=True)
class HistoryEntry:
    """One row of the history table."""

    key: str
    version: str | None
    description: str
    kind: str
    script: str
    checksum: str
    status: RowStatus
    transactional: bool
    statements_done: int
    applied_by: str
    applied_at: datetime
    duration_ms: int | None
    error: str | None


def key_of(migration: Migration) -> str:
    """The history key: the normalised version (``001`` and ``1.0`` both give ``1``)."""
    if migration.version is None:
        return f"R:{migration.name}"
    if migration.kind == "baseline":
        return f"B:{version_key(migration.version)}"
    return version_key(migration.version)


def version_key(version: Version) -> str:
    return ".".join(str(p) for p in version.key)


def table(schema: str, name: str = "history") -> sql.Composed:
    return sql.SQL("{}.{}").format(sql.Identifier(schema), sql.Identifier(name))


def exists(cur: Cursor, schema: str) -> bool:
    cur.execute("SELECT to_regclass(%s) IS NOT NULL", (f'"{schema}".history',))
    return bool(cur.fetchone()[0])


def read(conn: Connection, schema: str) -> list[HistoryEntry]:
    """All rows; an empty list when pgshift was never installed here (nothing is created).

    A history table locked by someone else is a LockBusyError after ``READ_LOCK_TIMEOUT``, not
    an endless wait; one altered by hand (a dropped column, a bad version) is a DriftError.
    """
    import psycopg2.errors

    from pgshift.errors import DriftError, LockBusyError

    try:
        entries = _fetch(conn, schema)
    except psycopg2.errors.LockNotAvailable:
        raise LockBusyError(f"{schema}.history is locked by another session",
                            hint="find the session holding it with 'pgshift ps' or "
                                 "pg_locks") from None
    except psycopg2.OperationalError:
        raise  # cancelled (a statement_timeout set for the role), the connection lost: not
        # the table's fault, and the CLI says what each means
    except psycopg2.errors.InsufficientPrivilege as exc:
        from pgshift.errors import InputError

        first = (str(exc).strip().splitlines() or [type(exc).__name__])[0]
        raise InputError(f"cannot read {schema}.history: {first}",
                         hint=f"GRANT USAGE ON SCHEMA {schema} and SELECT ON {schema}.history "
                              "to the role (and more to apply migrations: 'pgshift doctor' "
                              "says what)") from None
    except psycopg2.Error as exc:
        first = (str(exc).strip().splitlines() or [type(exc).__name__])[0]
        raise DriftError(f"cannot read {schema}.history: {first}",
                         hint="the table was altered by hand: restore it from a backup") from None
    from pgshift.migrations.model import Version

    for entry in entries:
        try:
            if entry.kind != "repeatable" or entry.version is not None:
                Version.parse(entry.version or "")
        except ValueError:
            raise DriftError(f"{schema}.history row {entry.key!r} has a bad version "
                             f"{entry.version!r}", migration=entry.script,
                             hint="the row was edited by hand: fix or delete it") from None
    return entries


READ_LOCK_TIMEOUT = "5s"


def _fetch(conn: Connection, schema: str) -> list[HistoryEntry]:
    import psycopg2.errors

    with conn.cursor() as cur:
        # One query string is one transaction: the lock_timeout holds for this read only. A
        # missing table is the rare case, so it costs an exception rather than a round trip.
        try:
            cur.execute(sql.SQL("SELECT set_config('lock_timeout', {}, true); SELECT "
                                + _COLUMNS + " FROM {} ").format(
                                    sql.Literal(READ_LOCK_TIMEOUT), table(schema)))
        except psycopg2.errors.UndefinedTable:
            return []
        return [HistoryEntry(*row) for row in cur.fetchall()]




def upsert_sql(
    schema: str,
    migration: Migration,
    status: RowStatus,
    *,
    duration_sql: str,
    error: str | None = None,
    statements_done: int = 0,
    keep_applied: bool = False,
) -> sql.Composed:
    """One INSERT … ON CONFLICT statement recording ``migration`` with ``status``.

    ``duration_sql`` is an SQL expression for the duration in ms, so the row can be written in
    the same round trip as the migration itself. ``keep_applied``: a row that says applied
    stays as it is (a repeatable whose new text failed: its last version is still in force).
    """
    values = sql.SQL(", ").join(
        [
            sql.Literal(key_of(migration)),
            sql.Literal(str(migration.version) if migration.version is not None else None),
            sql.Literal(migration.description),
            sql.Literal(migration.kind),
            sql.Literal(migration.name),
            sql.Literal(migration.checksum),
            sql.Literal(status),
            sql.Literal(migration.transactional),
            sql.Literal(statements_done),
            sql.SQL(duration_sql),
            sql.Literal(error),
        ]
    )
    return sql.SQL(
        "INSERT INTO {t} AS h (key, version, description, kind, script, checksum, status, "
        "transactional, statements_done, duration_ms, error) VALUES ({v}) "
        "ON CONFLICT (key) DO UPDATE SET version = excluded.version, "
        "description = excluded.description, script = excluded.script, "
        "checksum = excluded.checksum, status = excluded.status, "
        "transactional = excluded.transactional, statements_done = excluded.statements_done, "
        "applied_by = current_user, applied_at = now(), duration_ms = excluded.duration_ms, "
        "error = excluded.error, done_sha = CASE WHEN excluded.statements_done = 0 THEN NULL "
        "ELSE h.done_sha END" + (" WHERE h.status <> 'applied'" if keep_applied else "")
    ).format(t=table(schema), v=values)


def delete_sql(schema: str, key: str) -> sql.Composed:
    return sql.SQL("DELETE FROM {} WHERE key = {}").format(table(schema), sql.Literal(key))


def applied_among_sql(schema: str) -> sql.Composed:
    """The keys among ``%s`` (a list) recorded as applied, with their durations."""
    return sql.SQL("SELECT key, duration_ms FROM {} WHERE key = ANY(%s) AND status = 'applied'"
                   ).format(table(schema))


def set_progress_sql(schema: str, key: str, statements_done: int,
                     done_sha: str | None = None) -> sql.Composed:
    """The row's count of statements done, and the hash of their text (``done_sha``)."""
    return sql.SQL("UPDATE {} SET statements_done = {}, done_sha = {} WHERE key = {}").format(
        table(schema), sql.Literal(statements_done), sql.Literal(done_sha), sql.Literal(key)
    )


def progress_sql(conn: Connection, schema: str, key: str) -> Callable[[int, str], str]:
    """``set_progress_sql`` of the row ``key`` as a ready string for ``(statements_done,
    done_sha)``, its identifiers quoted once: a no-transaction migration writes it after each
    of its statements (20,000 in a data load)."""
    head = sql.SQL("UPDATE {} SET statements_done = ").format(table(schema)).as_string(conn)
    where = sql.SQL(" WHERE key = {}").format(sql.Literal(key)).as_string(conn)

    def text(done: int, sha: str) -> str:
        if not (sha.isascii() and sha.isalnum()):  # a hex digest: nothing to quote
            raise ValueError(f"not a digest: {sha!r}")
        return f"{head}{int(done)}, done_sha = '{sha}'{where}"

    return text


def done_digest(statements: Sequence[str]) -> Any:
    """The hash of statements a no-transaction migration ran (``hexdigest()``: the
    ``done_sha`` of ``set_progress_sql``); ``add_done`` adds the next one."""
    import hashlib

    digest = hashlib.sha256()
    for text in statements:
        add_done(digest, text)
    return digest


def add_done(digest: Any, statement: str) -> None:
    digest.update(statement.encode() + b"\0")


def read_done_sha(conn: Connection, schema: str, key: str) -> str | None:
    """The hash of the statements done that the row records (None: none recorded, as by a
    DBA's script or an older pgshift)."""
    with conn.cursor() as cur:
        cur.execute(sql.SQL("SELECT done_sha FROM {} WHERE key = {}").format(
            table(schema), sql.Literal(key)))
        row = cur.fetchone()
    return row[0] if row else None


def set_applied_sql(schema: str, key: str) -> sql.Composed:
    """Back to applied: a down interrupted before any of its statements ran."""
    return sql.SQL("UPDATE {} SET status = 'applied', statements_done = 0 WHERE key = {}").format(
        table(schema), sql.Literal(key))


def failed_attempt_sql(schema: str, key: str, error: str) -> sql.Composed:
    """A repeatable whose new text failed keeps its applied row (its last version is still in
    force): the row keeps the error too, so that status says the attempt failed. The next
    successful run's upsert clears it."""
    return sql.SQL("UPDATE {} SET error = {} WHERE key = {} AND status = 'applied'").format(
        table(schema), sql.Literal(error), sql.Literal(key))


def set_checksum_sql(schema: str, key: str, checksum: str) -> sql.Composed:
    return sql.SQL("UPDATE {} SET checksum = {} WHERE key = {}").format(
        table(schema), sql.Literal(checksum), sql.Literal(key)
    )


_COLUMNS_WRITTEN = (
    "(key, version, description, kind, script, checksum, status, transactional, "
    "statements_done, applied_at, duration_ms, error) VALUES (%s, %s, %s, %s, %s, %s, %s, %s, "
    "%s, {applied_at}, {duration}, %s)"
)
_RECORD = (
    "INSERT INTO {table} AS h " + _COLUMNS_WRITTEN + " "
    "ON CONFLICT (key) DO UPDATE SET version = excluded.version, "
    "description = excluded.description, script = excluded.script, "
    "checksum = excluded.checksum, status = excluded.status, "
    "transactional = excluded.transactional, statements_done = excluded.statements_done, "
    "applied_by = current_user, applied_at = excluded.applied_at, "
    "duration_ms = excluded.duration_ms, error = excluded.error"
)


# Refuses, in the same round trip as the COMMIT it precedes, to record as applied what another
# runner recorded first: two runners can only both get this far if one lost the advisory lock
# (its lock connection was terminated), and then the second must roll back rather than apply
# the migration twice. Where the run found no row for the migration, a plain INSERT is the
# guard (the primary key refuses a second row) and costs the server less than an upsert. Where
# it found one (a failed or interrupted attempt), the upsert fails with GUARD_MARK: a failing
# cast of a CASE the planner cannot fold (a plain literal cast would fail at parse time, and a
# division by zero could not be told apart from one in the migration's own last statement).
GUARD_MARK = "pgshift: recorded as applied by another runner"
_GUARDED = (
    "WITH written AS ({insert} WHERE h.status <> 'applied' OR (h.kind = 'repeatable' "
    "AND h.checksum <> excluded.checksum) RETURNING 1) "
    "SELECT (CASE WHEN (SELECT count(*) FROM written) = 1 THEN '1' "
    f"ELSE '{GUARD_MARK}' END)::int"
)


def is_guard_error(exc: BaseException, schema: str) -> bool:
    """Whether ``exc`` is the guarded record's refusal (see ``GUARD_MARK``)."""
    code = getattr(exc, "pgcode", None)
    if code == "22P02":
        return GUARD_MARK in str(exc)
    if code == "23505":
        diag = exc.diag  # type: ignore[attr-defined]
        return (diag.schema_name, diag.table_name) == (schema, "history")
    return False


@lru_cache(maxsize=16)
def _record_template(
    conn: Connection, schema: str, duration_sql: str, applied_at_sql: str, guarded: bool,
    fresh: bool,
) -> str:
    if guarded and fresh:
        return f"INSERT INTO {table(schema).as_string(conn)} " + _COLUMNS_WRITTEN.format(
            duration=duration_sql, applied_at=applied_at_sql
        )
    template = _RECORD.format(table=table(schema).as_string(conn), duration=duration_sql,
                              applied_at=applied_at_sql)
    return _GUARDED.format(insert=template) if guarded else template


def record_sql(
    conn: Connection,
    schema: str,
    migration: Migration,
    status: RowStatus,
    *,
    duration_sql: str,
    applied_at_sql: str = "now()",
    error: str | None = None,
    statements_done: int = 0,
    guarded: bool = False,
    fresh: bool = False,
) -> str:
    """``upsert_sql`` as a ready string, quoted by libpq in C: the hot path of ``up``.

    ``applied_at_sql`` is when the migration started (its transaction's start by default).
    ``guarded`` makes the statement fail (``is_guard_error``) if the row already says applied;
    ``fresh`` says the run found no row for the migration.
    """
    template = _record_template(conn, schema, duration_sql, applied_at_sql, guarded, fresh)
    params = (
        key_of(migration),
        str(migration.version) if migration.version is not None else None,
        migration.description,
        migration.kind,
        migration.name,
        migration.checksum,
        status,
        migration.transactional,
        statements_done,
        error,
    )
    from psycopg2.extensions import encodings

    with conn.cursor() as cur:
        return cur.mogrify(template, params).decode(encodings[conn.encoding])
