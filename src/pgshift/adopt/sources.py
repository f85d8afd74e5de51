"""Other tools' history tables, read as each tool writes them (nothing is ever written there).

===============  ==========================  =====================================================
tool             table (default)             what counts as applied
===============  ==========================  =====================================================
flyway           ``flyway_schema_history``   the last successful row per version (an undo or
                                             delete row takes it back); versions up to a
                                             ``BASELINE`` row; repeatables with their checksum
node-pg-migrate  ``pgmigrations``            one row per migration, by name (file name sans .sql)
dbmate           ``schema_migrations``       one row per version (the file name's number)
golang-migrate   ``schema_migrations``       one row: every version up to it (refused if dirty)
pgmigrate        ``public.schema_version``   every version up to the highest row (a ``manual``
                                             row is a baseline)
===============  ==========================  =====================================================
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING, Any

from psycopg2 import sql

from pgshift.errors import DriftError, InputError
from pgshift.migrations.model import Version

if TYPE_CHECKING:
    from psycopg2.extensions import connection as Connection

TOOLS = ("flyway", "node-pg-migrate", "dbmate", "golang-migrate", "pgmigrate")
DEFAULT_TABLES = {
    "flyway": "flyway_schema_history",
    "node-pg-migrate": "pgmigrations",
    "dbmate": "schema_migrations",
    "golang-migrate": "schema_migrations",
    "pgmigrate": "public.schema_version",
}
_FLYWAY_SQL_TYPES = ("SQL",)
_FLYWAY_UNDO_TYPES = ("UNDO_SQL", "UNDO_JDBC", "UNDO_SCRIPT", "DELETE")
_FLYWAY_SKIP_TYPES = ("SCHEMA", "TABLE")


@dataclass(frozen=True)
class Applied:
    """One migration another tool recorded as applied."""

    label: str  # how messages name it: V3, 1700000000000_create-users, R__views.sql
    version: Version | None = None
    name: str | None = None  # node-pg-migrate's name, Flyway's script for repeatables
    checksum: int | None = None  # Flyway's CRC32, where it kept one
    applied_at: datetime | None = None
    baseline: bool = False  # a Flyway baseline migration (B file) the database was built from


@dataclass(frozen=True)
class ForeignHistory:
    """What another tool's history table says is applied."""

    tool: str
    table: str
    applied: tuple[Applied, ...]
    upto: Version | None = None  # every version up to this one counts as applied (baseline)


def check_tool(tool: str) -> str:
    if tool not in TOOLS:
        raise InputError(f"unknown tool '{tool}'", hint=f"use one of: {', '.join(TOOLS)}")
    return tool


def read_history(conn: Connection, tool: str, table: str | None = None) -> ForeignHistory:
    """Read ``tool``'s history table (``table`` overrides its default name, ``schema.table``)."""
    check_tool(tool)
    regclass, ident, columns = _find_table(conn, tool, table or DEFAULT_TABLES[tool])
    reader = {"flyway": _flyway, "node-pg-migrate": _node, "dbmate": _dbmate,
              "golang-migrate": _golang, "pgmigrate": _pgmigrate}[tool]
    if tool == "dbmate" and "dirty" in columns:
        raise InputError(f"{regclass} has a 'dirty' column: it is golang-migrate's table",
                         hint="use --from golang-migrate")
    if tool == "golang-migrate" and "dirty" not in columns:
        raise InputError(f"{regclass} has no 'dirty' column: it is not golang-migrate's table",
                         hint="dbmate's table has the same name: use --from dbmate")
    import psycopg2.errors

    with conn.cursor() as cur:
        try:
            return reader(cur, regclass, ident)
        except psycopg2.errors.InsufficientPrivilege as exc:  # the table is there, not for us
            conn.rollback()
            raise InputError(f"cannot read {tool}'s history table {regclass}: "
                             f"{exc.diag.message_primary}",
                             hint=f"GRANT SELECT ON {regclass} (and USAGE on its schema) to "
                                  "the role pgshift connects as") from None
        except psycopg2.Error as exc:  # a table of that name, not of that shape
            conn.rollback()
            first = (str(exc).strip().splitlines() or [type(exc).__name__])[0]
            raise InputError(f"{regclass} is not {tool}'s history table: {first}",
                             hint="name the tool's own table with --table SCHEMA.TABLE"
                             ) from None


def _find_table(conn: Connection, tool: str, name: str) -> tuple[str, sql.Composable, set[str]]:
    """The table as the server names it, as an identifier, and its columns."""
    import psycopg2.errors

    with conn.cursor() as cur:
        try:
            cur.execute("SELECT c.oid, n.nspname, c.relname FROM pg_class c JOIN pg_namespace n "
                        "ON n.oid = c.relnamespace WHERE c.oid = to_regclass(%s)", (name,))
        except psycopg2.errors.InsufficientPrivilege as exc:  # no USAGE on its schema
            conn.rollback()
            raise InputError(f"cannot read {tool}'s history table '{name}': "
                             f"{exc.diag.message_primary}",
                             hint="GRANT USAGE on its schema and SELECT on the table to the "
                                  "role pgshift connects as") from None
        except psycopg2.Error as exc:  # '"', 'a.b.c': not a name to_regclass can read
            conn.rollback()
            raise InputError(f"not a table name: '{name}' ({exc.diag.message_primary})",
                             hint="name the table as SCHEMA.TABLE") from None
        row = cur.fetchone() or _exact(cur, name)
        if row is None:
            raise InputError(f"no {tool} history table '{name}' in this database",
                             hint=_elsewhere(cur, name))
        oid, schema, relname = row
        cur.execute("SELECT attname FROM pg_attribute WHERE attrelid = %s AND attnum > 0 "
                    "AND NOT attisdropped", (oid,))
        return f"{schema}.{relname}", sql.Identifier(schema, relname), {
            r[0] for r in cur.fetchall()}


def _exact(cur: Any, name: str) -> tuple | None:
    """The table named ``name`` letter for letter (``App.history``, as Flyway and the others
    quote their names), when to_regclass's folding to lower case found nothing."""
    schema, _, relname = name.rpartition(".")
    cur.execute("SELECT c.oid, n.nspname, c.relname FROM pg_class c JOIN pg_namespace n "
                "ON n.oid = c.relnamespace WHERE c.relname = %s AND c.relkind IN ('r', 'p') "
                "AND (n.nspname = %s OR (%s = '' AND n.nspname = ANY (current_schemas(false))))",
                (relname, schema, schema))
    rows = cur.fetchall()
    return rows[0] if len(rows) == 1 else None


def _elsewhere(cur: Any, name: str) -> str:
    """A hint: the tables of that name in other schemas (the tool was given its own schema)."""
    relname = name.rpartition(".")[2]
    cur.execute("SELECT n.nspname, c.relname FROM pg_class c JOIN pg_namespace n "
                "ON n.oid = c.relnamespace WHERE lower(c.relname) = lower(%s) "
                "AND c.relkind IN ('r', 'p') ORDER BY 1, 2 LIMIT 5", (relname,))
    found = [sql.Identifier(schema, rel).as_string(cur) for schema, rel in cur.fetchall()]
    if found:
        return f"name it with --table: {', '.join(found)} {'is' if len(found) == 1 else 'are'} here"
    return "check --url, or name the table with --table SCHEMA.TABLE"


def _flyway(cur: Any, table: str, ident: sql.Composable) -> ForeignHistory:
    cur.execute(sql.SQL("SELECT installed_rank, version, description, type, script, checksum, "
                        "installed_on::timestamptz, success FROM {} ORDER BY installed_rank"
                        ).format(ident))
    versioned: dict[Version, Applied] = {}
    repeatable: dict[str, Applied] = {}
    upto: Version | None = None
    for _rank, version, _desc, kind, script, crc, installed_on, success in cur.fetchall():
        label = f"V{version}" if version else script
        if kind in _FLYWAY_SKIP_TYPES:
            continue
        parsed = _version(version.replace("_", "."), table) if version else None
        # A repeatable is known by its file name: a run from another subfolder is the same one
        # (Flyway knows it by its description, which is the file name's).
        script_name = script.replace("\\", "/").rsplit("/", 1)[-1]
        if not success:
            raise DriftError(f"Flyway recorded {label} ({script}) as failed",
                             hint="finish or repair it with Flyway first, then adopt")
        if kind == "BASELINE":
            upto = parsed if upto is None or (parsed and parsed > upto) else upto
        elif kind == "SQL_BASELINE" and parsed is not None:  # built from a B file
            versioned[parsed] = Applied(f"B{version}", parsed, script, crc, installed_on,
                                        baseline=True)
        elif kind in _FLYWAY_UNDO_TYPES:
            if parsed is not None:
                versioned.pop(parsed, None)
            else:
                repeatable.pop(script_name, None)
        elif kind not in _FLYWAY_SQL_TYPES:
            raise InputError(f"Flyway applied {label} as a {kind} migration ({script})",
                             hint="pgshift adopts SQL migrations only: rewrite it as a .sql file")
        elif parsed is not None:
            versioned[parsed] = Applied(label, parsed, script, crc, installed_on)
        else:
            repeatable.pop(script_name, None)  # the last run counts, in its run's order
            repeatable[script_name] = Applied(label, None, script, crc, installed_on)
    applied = [versioned[v] for v in sorted(versioned)] + list(repeatable.values())
    return ForeignHistory("flyway", table, tuple(applied), upto)


def _node(cur: Any, table: str, ident: sql.Composable) -> ForeignHistory:
    cur.execute(sql.SQL("SELECT name, run_on::timestamptz FROM {} ORDER BY run_on, id"
                        ).format(ident))
    applied = tuple(Applied(name, None, name, None, run_on) for name, run_on in cur.fetchall())
    return ForeignHistory("node-pg-migrate", table, applied)


def _dbmate(cur: Any, table: str, ident: sql.Composable) -> ForeignHistory:
    cur.execute(sql.SQL("SELECT version FROM {}").format(ident))
    versions = sorted((_version(text, table), text) for (text,) in cur.fetchall())
    return ForeignHistory("dbmate", table, tuple(Applied(t, v) for v, t in versions))


def _golang(cur: Any, table: str, ident: sql.Composable) -> ForeignHistory:
    cur.execute(sql.SQL("SELECT version, dirty FROM {}").format(ident))
    rows = cur.fetchall()
    if not rows:
        return ForeignHistory("golang-migrate", table, ())
    version, dirty = rows[0]
    if dirty:  # version -1: a down to no version, or a first up, failed half-way
        shown = "no version (-1)" if version < 0 else f"version {version}"
        raise DriftError(f"golang-migrate left this database dirty at {shown}",
                         hint=f"fix the schema by hand, then 'migrate force {version}', "
                              "then adopt")
    if version < 0:
        return ForeignHistory("golang-migrate", table, ())
    top = Version.parse(str(version))
    return ForeignHistory("golang-migrate", table, (Applied(str(version), top),), upto=top)


def _pgmigrate(cur: Any, table: str, ident: sql.Composable) -> ForeignHistory:
    cur.execute(sql.SQL("SELECT version, type::text, installed_on::timestamptz FROM {} "
                        "ORDER BY version").format(ident))
    applied, upto = [], None
    for version, kind, installed_on in cur.fetchall():
        parsed = Version.parse(str(version))
        upto = parsed
        if kind == "auto":
            applied.append(Applied(f"V{version}", parsed, None, None, installed_on))
    return ForeignHistory("pgmigrate", table, tuple(applied), upto)


def _version(text: str, table: str) -> Version:
    try:
        return Version.parse(text.strip())
    except ValueError:
        raise InputError(f"{table} holds a version that is not a number: '{text}'") from None
