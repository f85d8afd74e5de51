"""pgshift's own schema and tables, versioned so later releases can upgrade them.

``SCHEMA_VERSION`` is the number of upgrade steps; the meta table's ``schema_version`` row
records the last step a database ran. ``install`` runs the steps it lacks; ``install_sql`` is
the same as a plain SQL script. The rows themselves are read and written by
``pgshift.state.history``.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from psycopg2 import sql

from pgshift.errors import InputError
from pgshift.state.history import table

if TYPE_CHECKING:
    from psycopg2.extensions import connection as Connection

SCHEMA_VERSION = 6
TABLES = ("history", "meta", "backfill", "runs")  # what the upgrade steps make

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
            if current > SCHEMA_VERSION:
                raise newer_history_error(schema, current)
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


def newer_history_error(schema: str, version: int) -> InputError:
    """A history a newer pgshift wrote: this one would misread it, and writing into it could
    leave rows the newer one misreads in turn (a column this version does not fill)."""
    return InputError(
        f"{schema}'s tables were written by a newer pgshift (their version {version}; this "
        f"one knows up to {SCHEMA_VERSION}): it may misread what is applied",
        hint="upgrade pgshift before running it on this database")


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
