"""Checks before anything runs: the files parse and are reversible, lint passes, and the
target is writable, privileged and not behind a transaction pooler.

``check_writable`` refuses a read-only standby, a read-only session and a role that cannot
create or write pgshift's history, or create in the schema migrations land in: one clear
error instead of a failure half-way. ``refuse_transaction_pooling`` refuses a pooler in
transaction mode (PgBouncer ``pool_mode = transaction``): pgshift's session advisory lock and
session settings would land on server connections other clients then get, stranding the lock.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from pgshift.errors import ConfigError, InputError, LintFailedError

if TYPE_CHECKING:
    from collections.abc import Sequence

    from psycopg2.extensions import connection as Connection

    from pgshift.config import Settings
    from pgshift.lint.catalog_rows import Catalog
    from pgshift.migrations.model import Migration

_TARGET = """
SELECT pg_is_in_recovery(), current_setting('transaction_read_only') = 'on', current_user,
       current_schema(), current_database(),
       has_database_privilege(current_database(), 'CREATE'),
       coalesce(has_schema_privilege(current_schema(), 'CREATE'), false),
       to_regnamespace(quote_ident(%(schema)s)) IS NOT NULL,
       CASE WHEN to_regnamespace(quote_ident(%(schema)s)) IS NOT NULL
            THEN has_schema_privilege(%(schema)s, 'CREATE')
             AND has_schema_privilege(%(schema)s, 'USAGE') END,
       CASE WHEN NOT coalesce(has_schema_privilege(to_regnamespace(quote_ident(%(schema)s)),
                                                   'USAGE'), false)
            THEN NULL  -- to_regclass would fail: the schema's grant says it all
            WHEN to_regclass(%(history)s) IS NOT NULL  -- a list would mean "any of them"
            THEN has_table_privilege(%(history)s, 'SELECT')
             AND has_table_privilege(%(history)s, 'INSERT')
             AND has_table_privilege(%(history)s, 'UPDATE')
             AND has_table_privilege(%(history)s, 'DELETE') END,
       CASE WHEN NOT coalesce(has_schema_privilege(to_regnamespace(quote_ident(%(schema)s)),
                                                   'USAGE'), false) THEN NULL
            WHEN to_regclass(%(runs)s) IS NOT NULL
            THEN has_table_privilege(%(runs)s, 'SELECT')
             AND has_table_privilege(%(runs)s, 'INSERT')
             AND has_table_privilege(%(runs)s, 'UPDATE')
             AND CASE WHEN EXISTS (SELECT FROM pg_attribute WHERE attrelid = to_regclass(
                           %(runs)s) AND attname = 'id' AND NOT attisdropped)  -- else: the run
                      THEN has_sequence_privilege(  -- log says it was altered by hand
                           pg_get_serial_sequence(%(runs)s, 'id'), 'USAGE') END END
"""


def check_writable(conn: Connection, settings: Settings) -> None:
    """Raise InputError (exit 2) when migrations could not run here; no changes are made."""
    with conn.cursor() as cur:
        cur.execute(_TARGET, {"schema": settings.schema,
                              "history": f'"{settings.schema}".history',
                              "runs": f'"{settings.schema}".runs'})
        (standby, read_only, user, schema, database, db_create, schema_create, ours_exists,
         ours_ok, history_ok, runs_ok) = cur.fetchone()
    if standby:
        raise InputError("the server is a read-only standby (pg_is_in_recovery() is true)",
                         hint="point pgshift at the primary")
    if read_only:
        raise InputError("the session is read-only (default_transaction_read_only is on)",
                         hint="connect to the primary, or unset default_transaction_read_only "
                              f"for role {user} / database {database}")
    grant = None
    if history_ok is False or ours_ok is False:
        grant = (f"role {user} cannot write pgshift's history in schema {settings.schema}",
                 f"GRANT USAGE, CREATE ON SCHEMA {settings.schema} and SELECT, INSERT, UPDATE, "
                 f"DELETE ON {settings.schema}.history TO {user}")
    elif runs_ok is False:  # a table another role made: its grants may predate it
        grant = (f"role {user} cannot write pgshift's run log {settings.schema}.runs",
                 f"GRANT SELECT, INSERT, UPDATE ON {settings.schema}.runs and USAGE ON "
                 f"SEQUENCE {settings.schema}.runs_id_seq TO {user}")
    elif not ours_exists and not db_create:
        grant = (f"role {user} cannot create pgshift's schema {settings.schema} "
                 f"(no CREATE privilege on database {database})",
                 f"GRANT CREATE ON DATABASE {database} TO {user}, or create the schema for it")
    elif schema is None:
        grant = ("no schema to create objects in: search_path names no existing schema",
                 "set search_path, or create the schema")
    elif not schema_create:
        grant = (f"role {user} has no CREATE privilege on schema {schema}, where the "
                 "migrations' objects go", f"GRANT CREATE ON SCHEMA {schema} TO {user}")
    if grant:
        raise InputError(grant[0] + "; nothing was run", hint=grant[1])


def _backend_pid(conn: Connection) -> int:
    with conn.cursor() as cur:
        cur.execute("SELECT pg_backend_pid()")
        return int(cur.fetchone()[0])


def refuse_transaction_pooling(conn: Connection, settings: Settings) -> None:
    """Raise ConfigError (exit 2) when ``conn`` goes through a transaction-mode pooler.

    A direct connection's server pid is the one libpq got at start-up. Through a proxy it is
    not; then a second connection tells session pooling (each client keeps its own server
    session) from transaction pooling (clients share server sessions between transactions).
    """
    if _backend_pid(conn) == conn.get_backend_pid():
        return
    from pgshift.db import connect

    probe = connect(settings, application_name=f"{settings.application_name} probe")
    try:
        seen = [(_backend_pid(conn), _backend_pid(probe)) for _ in range(3)]
    finally:
        probe.close()
    mine = {pid for pid, _ in seen}
    theirs = {pid for _, pid in seen}
    if len(mine) == 1 and len(theirs) == 1 and mine != theirs:
        return  # a session-mode pooler: the lock stays with this session
    raise ConfigError(
        "connected through a pooler in transaction mode (e.g. PgBouncer pool_mode = "
        "transaction): pgshift's session advisory lock and session settings would move to "
        "other clients' server connections, so it refuses to run; nothing was run",
        hint="connect pgshift straight to PostgreSQL, or through a session-mode pool",
    )


def check_runnable(selected: Sequence[Migration]) -> None:
    from pgshift.runner import body_statements

    for migration in selected:
        if (
            migration.kind != "repeatable"
            and not migration.reversible
            and (not migration.directives.irreversible)
        ):
            raise InputError(
                "has no down part (or a blank one)",
                path=migration.path,
                migration=migration.label,
                hint="write its down part after '-- pgshift:down' or in a U file (a comment "
                "such as '-- nothing to undo' will do), or mark it '-- pgshift:irreversible'",
            )
        body_statements(migration, "up")  # parses: syntax errors and misplaced CONCURRENTLY


def lint_gate(
    settings: Settings, conn: Connection, pending: Sequence[Migration], prior: Sequence[Migration]
) -> None:
    if not settings.lint or settings.unsafe:
        return
    pg_version = settings.pg_version or conn.server_version // 10000
    select = frozenset(settings.lint_select) or None
    ignore = frozenset(settings.lint_ignore)
    from pgshift.lint.catalog_rows import fetch_catalog

    key = None
    if settings.cache_dir is None:
        catalog = fetch_catalog(conn)
    else:
        catalog, key = _unless_remembered(settings, conn, pending,
                                          (pg_version, sorted(select or ()), sorted(ignore),
                                           settings.lock_timeout > 0))
        if catalog is None:
            return
    from pgshift.lint import LintOptions, lint_migrations

    options = LintOptions(
        pg_version=pg_version, select=select, ignore=ignore, lock_timeout=settings.lock_timeout
    )
    report = lint_migrations(pending, options, prior=prior, catalog=catalog)
    if not report.errors and key is not None and settings.cache_dir is not None:
        from pgshift.lint import gate_memo

        gate_memo.remember_pass(settings.cache_dir, key)
    if report.errors:
        first = report.errors[0]
        more = f" (+{len(report.errors) - 1} more)" if len(report.errors) > 1 else ""
        raise LintFailedError(
            f"{first.rule}: {first.message}{more}",
            path=first.path,
            line=first.line,
            hint="run 'pgshift lint' for details; fix it, suppress it with "
            "'-- pgshift:ignore RULE -- reason', or pass --unsafe",
        )


def _unless_remembered(
    settings: Settings, conn: Connection, pending: Sequence[Migration], given: tuple[object, ...]
) -> tuple[Catalog | None, str]:
    """The catalog's rows for the linter, or None when the gate passed these files over a
    catalog with the same fingerprint; and the memo's key. The server computes the fingerprint
    and sends the rows only when they are needed, in one snapshot with it."""
    from pgshift.lint import gate_memo
    from pgshift.lint.catalog_rows import SMALL_TABLE_ROWS, fetch_catalog_unless

    assert settings.cache_dir is not None
    cache_dir = settings.cache_dir

    def remembered(fingerprint: str) -> bool:
        keys.append(gate_memo.gate_key(fingerprint, pending, given))
        return gate_memo.passed(cache_dir, keys[-1])

    keys: list[str] = []
    _, catalog = fetch_catalog_unless(conn, remembered, SMALL_TABLE_ROWS, settings.schema)
    return catalog, keys[-1]
