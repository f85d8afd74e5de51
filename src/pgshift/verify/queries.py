"""The application's queries verify checks: from a file, or the top of ``pg_stat_statements``."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from pgshift.errors import DatabaseConnectionError, InputError

_DML = ("select", "insert", "update", "delete", "with", "values", "table")


@dataclass(frozen=True)
class Query:
    """One application statement, possibly with ``$1``-style parameters."""

    text: str
    source: str  # where it came from: "queries.sql:12" or "pg_stat_statements #3"
    path: str | None = None  # from a file: the file and the line it starts on
    line: int | None = None

    def __post_init__(self) -> None:
        # PREPARE takes the first statement of a string and the server runs the rest then
        # and there: verify would run them for real, not rolled back.
        if _statement_count(self.text) > 1:
            raise InputError(f"{self.source}: a query must be one statement",
                             hint="split it into one query per statement")

    def short(self, width: int = 80) -> str:
        text = " ".join(self.text.split())
        return text if len(text) <= width else text[: width - 3] + "..."

    def describe(self) -> str:
        return f"{self.source}: {self.short()}"


def read_queries(path: Path) -> list[Query]:
    """Every statement of ``path``, split with PostgreSQL's own parser. Not a migration: a
    statement PREPARE cannot take (``COPY … TO stdout``, DDL) is noted by verify, not refused."""
    from pglast import parser

    try:
        text = path.read_text(encoding="utf-8")
    except OSError as exc:
        raise InputError(f"cannot read the queries file: {exc.strerror}", path=path) from None
    except UnicodeDecodeError:
        raise InputError("the queries file is not valid UTF-8", path=path) from None
    try:
        pieces = parser.split(text, with_parser=True, only_slices=True)
    except parser.ParseError as exc:
        position = exc.args[1] if len(exc.args) > 1 and exc.args[1] is not None else len(text)
        message = str(exc.args[0])
        raise InputError(message if message.startswith("syntax error")
                         else f"syntax error: {message}", path=path,
                         line=text.count("\n", 0, position) + 1) from None
    queries, line, counted = [], 1, 0
    for piece in pieces:  # lines counted on from the last statement's: one pass
        line += text.count("\n", counted, piece.start)
        counted = piece.start
        queries.append(Query(text[piece].strip(), f"{path.name}:{line}", str(path), line))
    return queries


def queries_from_stats(url: str, *, limit: int = 50, own_schema: str = "pgshift") -> list[Query]:
    """The ``limit`` statements of ``url``'s database with the most total execution time.

    Only plain DML (the application's queries) is kept; constants are already ``$n`` there.
    """
    import psycopg2

    from pgshift.db import redact

    try:
        conn = psycopg2.connect(url, application_name="pgshift verify")
    except psycopg2.Error as exc:
        raise DatabaseConnectionError(
            f"--queries-from-stats: cannot connect: {redact(str(exc).strip(), url)}") from None
    try:
        with conn.cursor() as cur:
            cur.execute("SELECT n.nspname FROM pg_extension e JOIN pg_namespace n "
                        "ON n.oid = e.extnamespace WHERE e.extname = 'pg_stat_statements'")
            row = cur.fetchone()
            if row is None:
                raise InputError(
                    "--queries-from-stats: pg_stat_statements is not installed in that database",
                    hint="CREATE EXTENSION pg_stat_statements (it needs "
                         "shared_preload_libraries = 'pg_stat_statements'), or use --queries FILE")
            total = "total_exec_time" if conn.server_version >= 130000 else "total_time"
            cur.execute(_stats_sql(row[0], total), (limit * 4,))
            texts = [r[0] for r in cur.fetchall()]
    except psycopg2.Error as exc:
        raise InputError(f"--queries-from-stats: {exc.pgerror or exc}".strip()) from None
    finally:
        conn.close()
    picked = [t for t in texts if _is_application_query(t, own_schema)][:limit]
    return [Query(text.strip().rstrip(";"), f"pg_stat_statements #{i}")
            for i, text in enumerate(picked, start=1)]


def _stats_sql(schema: str, total_column: str) -> object:
    from psycopg2 import sql

    return sql.SQL(
        "SELECT s.query FROM {schema}.pg_stat_statements s "
        "JOIN pg_database d ON d.oid = s.dbid AND d.datname = current_database() "
        "WHERE s.query IS NOT NULL ORDER BY s.{total} DESC LIMIT %s"
    ).format(schema=sql.Identifier(schema), total=sql.Identifier(total_column))


def _is_application_query(text: str, own_schema: str) -> bool:
    """One statement of DML reading or writing at least one table, none of them the system's
    or pgshift's. Never two: PREPARE takes the first, and the rest would run on their own."""
    if not " ".join(text.lower().split()).startswith(_DML) or _statement_count(text) != 1:
        return False
    tables = _tables_of(text)
    return bool(tables) and not any(
        schema in ("pg_catalog", "information_schema", own_schema) or name.startswith("pg_")
        for schema, name in tables)


def _statement_count(text: str) -> int:
    """How many statements ``text`` holds (0 if it does not parse)."""
    from pglast import parser

    try:
        return len(parser.split(text, with_parser=True, only_slices=True))
    except parser.ParseError:
        return 0


def _tables_of(text: str) -> list[tuple[str, str]]:
    """(schema, name) of every table a statement names; empty if it does not parse."""
    import json

    from pglast import parser

    try:
        tree = json.loads(parser.parse_sql_json(text))
    except parser.ParseError:
        return []
    found, stack = [], [tree]
    while stack:
        node = stack.pop()
        if isinstance(node, dict):
            if isinstance(node.get("relname"), str):  # a RangeVar, wrapped or not
                found.append((str(node.get("schemaname", "")), node["relname"]))
            stack.extend(node.values())
        elif isinstance(node, list):
            stack.extend(node)
    return found


def parameter_count(text: str) -> int:
    """The highest ``$n`` of a statement (0 if it has none or does not parse)."""
    import json

    from pglast import parser

    try:
        tree = json.loads(parser.parse_sql_json(text))
    except parser.ParseError:
        return 0
    highest, stack = 0, [tree]
    while stack:
        node = stack.pop()
        if isinstance(node, dict):
            if isinstance(node.get("ParamRef"), dict):
                highest = max(highest, int(node["ParamRef"].get("number", 0)))
            stack.extend(node.values())
        elif isinstance(node, list):
            stack.extend(node)
    return highest
