"""The history table in pgshift's own schema, versioned so later releases can upgrade it.

A versioned migration has exactly one row, keyed by its normalised version, while it is applied
(or failed, or interrupted); rolling it back deletes the row in the down's own transaction.
A baseline migration's key is ``B:`` and its version. Repeatable migrations are keyed by file
name and keep the checksum last applied.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from functools import lru_cache
from typing import TYPE_CHECKING, Any, Literal

from psycopg2 import sql

if TYPE_CHECKING:
    from collections.abc import Sequence

    from psycopg2.extensions import connection as Connection
    from psycopg2.extensions import cursor as Cursor

    from pgshift.migrations.model import Migration, Version

SCHEMA_VERSION = 6
TABLES = ("history", "meta", "backfill", "runs")  # what the upgrade steps make
RowStatus = Literal["applied", "failed", "running", "reverting"]

# Cast as pgshift made them: a column retyped by hand reads as before or fails to read (a
# DriftError), rather than handing a string where a timestamp belongs.
_COLUMNS = (
    "key::text, version::text, description::text, kind::text, script::text, checksum::text, "
    "status::text, transactional::boolean, statements_done::integer, applied_by::text, "
    "applied_at::timestamptz, duration_ms::bigint, error::text"
)

# Each step upgrades the tables from the version before it; the meta row records the last step.
_UPGRADES: tuple[str, ...] = (
    """
    CREATE TABLE IF NOT EXISTS {schema}.meta (key text PRIMARY KEY, value text NOT NULL);
    CREATE TABLE IF NOT EXISTS {schema}.history (
        key text PRIMARY KEY,
        version text,
        description text NOT NULL,
        kind text NOT NULL CHECK (kind IN ('versioned', 'repeatable')),
        script text NOT NULL,
        checksum text NOT NULL,
        status text NOT NULL CHECK (status IN ('applied', 'failed', 'running', 'reverting')),
        transactional boolean NOT NULL DEFAULT true,
        statements_done integer NOT NULL DEFAULT 0,
        applied_by text NOT NULL DEFAULT current_user,
        applied_at timestamptz NOT NULL DEFAULT now(),
        duration_ms bigint,
        error text
    );
    """,
    # 2: batched backfill checkpoints (columns documented in pgshift.backfill.progress).
    """
    CREATE TABLE IF NOT EXISTS {schema}.backfill (
        id text PRIMARY KEY,
        migration text,
        table_name text NOT NULL,
        statement text NOT NULL,
        checksum text NOT NULL,
        key_columns text[] NOT NULL,
        last_key text[],
        keys_total bigint,
        keys_done bigint NOT NULL DEFAULT 0,
        rows_done bigint NOT NULL DEFAULT 0,
        batches integer NOT NULL DEFAULT 0,
        batch_size integer,
        rows_per_second double precision,
        keys_per_second double precision,
        status text NOT NULL CHECK (status IN ('running', 'done', 'failed')),
        pid integer,
        started_at timestamptz NOT NULL DEFAULT now(),
        updated_at timestamptz NOT NULL DEFAULT now(),
        finished_at timestamptz,
        error text
    );
    """,
    # 3: the run log (columns documented in pgshift.state.runs).
    """
    CREATE TABLE IF NOT EXISTS {schema}.runs (
        id bigserial PRIMARY KEY,
        command text NOT NULL,
        status text NOT NULL DEFAULT 'running' CHECK (status IN ('running', 'done', 'failed')),
        run_by text NOT NULL DEFAULT current_user,
        machine text,
        pid integer NOT NULL DEFAULT pg_backend_pid(),
        pgshift_version text,
        started_at timestamptz NOT NULL DEFAULT now(),
        finished_at timestamptz,
        migrations text[] NOT NULL DEFAULT ARRAY[]::text[],
        keys text[] NOT NULL DEFAULT ARRAY[]::text[],
        error text
    );
    """,
    # 4: baseline migrations (B files). The step can run again (see install_sql), and leaves a
    # check that already admits them (a later pgshift's) as it is.
    """
    DO $pgshift$ BEGIN
        IF NOT EXISTS (SELECT FROM pg_constraint
                       WHERE conrelid = '{schema}.history'::regclass
                       AND conname = 'history_kind_check'
                       AND position('baseline' IN pg_get_constraintdef(oid)) > 0) THEN
            ALTER TABLE {schema}.history DROP CONSTRAINT IF EXISTS history_kind_check;
            ALTER TABLE {schema}.history ADD CONSTRAINT history_kind_check
                CHECK (kind IN ('versioned', 'repeatable', 'baseline'));
        END IF;
    END $pgshift$;
    """,
    # 5: what a no-transaction migration interrupted part-way ran: the hash of its statements
    # done (``done_sha``), which the file's first statements must match when it goes on.
    """
    ALTER TABLE {schema}.history ADD COLUMN IF NOT EXISTS done_sha text;
    """,
    # 6: which table a backfill walked, and its key's types and collations (``walk``, see
    # pgshift.backfill.identity): a resume on another table or key order is refused. NULL in
    # the rows written before, which resume as they did.
    """
    ALTER TABLE {schema}.backfill ADD COLUMN IF NOT EXISTS walk text;
    """,
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


def install(conn: Connection, schema: str) -> None:
    """Create or upgrade pgshift's schema and tables (idempotent, in one transaction)."""
    ident = sql.Identifier(schema)
    autocommit = conn.autocommit
    conn.autocommit = False
    try:
        with conn.cursor() as cur:
            # Every table of the current version, not only the history: one dropped by hand
            # is made again (the steps can all run again).
            cur.execute("SET LOCAL lock_timeout = '5s'; SELECT bool_and(to_regclass("
                        "format('%%I.%%I', %s::text, t)) IS NOT NULL) FROM unnest(%s) AS t",
                        (schema, list(TABLES)))
            if not cur.fetchone()[0]:
                current = 0
            else:
                cur.execute(
                    sql.SQL("SELECT value FROM {} WHERE key = 'schema_version'").format(
                        table(schema, "meta")
                    )
                )
                row = cur.fetchone()
                current = int(row[0]) if row else 0
            if current < SCHEMA_VERSION:  # one round trip: the schema, the steps, the version
                cur.execute(sql.SQL(";").join([
                    sql.SQL("CREATE SCHEMA IF NOT EXISTS {}").format(ident),
                    *(sql.SQL(step).format(schema=ident)
                      for step in _UPGRADES[current:SCHEMA_VERSION]),
                    sql.SQL("INSERT INTO {} VALUES ('schema_version', {}) ON CONFLICT (key) "
                            "DO UPDATE SET value = excluded.value").format(
                        table(schema, "meta"), sql.Literal(str(SCHEMA_VERSION))),
                ]))
        conn.commit()
    except BaseException:
        # A signal during a statement (Ctrl-C, SIGTERM) leaves psycopg2's connection closed:
        # touching it again would raise an InterfaceError in place of the interruption.
        if not conn.closed:
            conn.rollback()
        raise
    finally:
        if not conn.closed:
            conn.autocommit = autocommit


def install_sql(schema: str) -> sql.Composed:
    """``install`` as one transaction of plain SQL, for a script run where pgshift is not.

    Every upgrade step can run again (``IF NOT EXISTS``), so the steps are all sent; the meta
    row never goes down, so a newer pgshift's tables are left as they are.
    """
    from textwrap import dedent  # scripts only

    ident = sql.Identifier(schema)
    return sql.SQL(
        "BEGIN;\nSET LOCAL lock_timeout = '5s';\nSET LOCAL client_min_messages = warning;\n"
        "CREATE SCHEMA IF NOT EXISTS {ident};{steps}\n"
        "INSERT INTO {meta} AS m VALUES ('schema_version', {version}) ON CONFLICT (key) DO "
        "UPDATE SET value = excluded.value WHERE m.value::int < excluded.value::int;\nCOMMIT;"
    ).format(
        ident=ident, meta=table(schema, "meta"), version=sql.Literal(str(SCHEMA_VERSION)),
        steps=sql.SQL("").join(sql.SQL(dedent(step).rstrip()).format(schema=ident)
                               for step in _UPGRADES),
    )


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
