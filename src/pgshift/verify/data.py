"""Sample data for ``verify --with-data``: a user's script, or generated rows for every table.

Generated rows are best effort: ``rows`` per table, parents before children, each value made
from the row number ``g`` by column type (so integer keys run 1..rows and a foreign key column
gets the very expression of the column it references). Columns with a default keep it. A table
whose rows cannot be made (a CHECK, a composite key) is left empty and named in a note.
"""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path
from typing import TYPE_CHECKING, Any

import psycopg2
from psycopg2 import sql

from pgshift.errors import InputError

if TYPE_CHECKING:
    from psycopg2.extensions import connection as Connection

_COLUMNS_SQL = """
    SELECT format('%%I.%%I', n.nspname, c.relname), n.nspname, c.relname, a.attname,
           format_type(a.atttypid, a.atttypmod), t.typcategory, t.typtype, a.attnotnull,
           a.atthasdef OR a.attidentity <> '' OR a.attgenerated <> '' AS has_default,
           (SELECT format('%%I.%%I', rn.nspname, rc.relname) || '.' || ra.attname
            FROM pg_constraint fk
            JOIN pg_class rc ON rc.oid = fk.confrelid
            JOIN pg_namespace rn ON rn.oid = rc.relnamespace
            JOIN pg_attribute ra ON ra.attrelid = fk.confrelid AND ra.attnum = fk.confkey[1]
            WHERE fk.contype = 'f' AND fk.conrelid = c.oid AND cardinality(fk.conkey) = 1
              AND fk.conkey[1] = a.attnum LIMIT 1) AS refers_to
    FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
    JOIN pg_attribute a ON a.attrelid = c.oid AND a.attnum > 0 AND NOT a.attisdropped
    JOIN pg_type t ON t.oid = a.atttypid
    WHERE c.relkind IN ('r', 'p') AND NOT c.relispartition
      AND n.nspname <> ALL(%(skip)s) AND n.nspname NOT LIKE 'pg\\_%%'
    ORDER BY c.oid, a.attnum"""

_BY_CATEGORY = {
    "N": "g",
    "S": "({label} || '_' || g)",
    "B": "(g % 2 = 0)",
    "D": "(now() - g * interval '1 minute')",
    "U": "md5(g::text)",
    "V": "B'1'",
}
_BY_TYPE = {"uuid": "md5(g::text)::uuid", "json": "json_build_object('n', g)",
            "jsonb": "jsonb_build_object('n', g)", "bytea": "convert_to(g::text, 'UTF8')",
            "smallint": "(g % 32000)", "interval": "(g * interval '1 second')"}


def load_script(conn: Connection, path: Path) -> None:
    """Run the user's data script on the scratch database, then ANALYZE."""
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as exc:
        raise InputError(f"cannot read the data script: {exc.strerror}", path=path) from None
    except UnicodeDecodeError:
        raise InputError("the data script is not valid UTF-8", path=path) from None
    try:
        with conn.cursor() as cur:
            cur.execute(text)
            cur.execute("ANALYZE")
    except psycopg2.Error as exc:
        first = (str(exc).strip().splitlines() or [""])[0]
        raise InputError(f"the data script failed: {first}", path=path,
                         line=_line_of(text, exc)) from None


def _line_of(text: str, exc: psycopg2.Error) -> int | None:
    """The line of ``text`` the error points at: PostgreSQL gives a position in the string
    for an error of parsing or analysis, none for one of execution (a constraint)."""
    position = getattr(getattr(exc, "diag", None), "statement_position", None)
    if not position:
        return None
    return text.count("\n", 0, int(position) - 1) + 1


def generate_rows(conn: Connection, *, rows: int, skip_schemas: Iterable[str]) -> list[str]:
    """Insert ``rows`` generated rows into every empty table, and analyze those; notes for
    those left empty.

    Tables that already hold rows are left alone, so this can run again after each migration
    to fill the tables it created: one query tells which are empty, however many there are.
    """
    tables = _tables(conn, ["information_schema", *skip_schemas])
    expressions: dict[str, str] = {}
    notes = []
    filled: list[dict[str, Any]] = []
    with conn.cursor() as cur:
        empty = _empty(cur, tables)
        for name in _parents_first(tables):
            columns = tables[name]
            chosen = [(col, _expression(col, expressions)) for col in columns]
            chosen = [(col, expr) for col, expr in chosen if expr is not None]
            for col, expr in chosen:
                expressions[f"{name}.{col['column']}"] = expr
            if name not in empty:
                continue
            error = _insert(cur, columns[0], chosen, rows)
            if error:
                notes.append(f"no sample rows for {name}: {error}")
            filled.append(columns[0])
        if filled:  # only these: the others' statistics are as their rows, analyzed before
            cur.execute(sql.SQL("ANALYZE {}").format(sql.SQL(", ").join(
                _table(col) for col in filled)))
    return notes


def _empty(cur: Any, tables: dict[str, list[dict[str, Any]]]) -> set[str]:
    """Which of ``tables`` hold no row, read in one round trip."""
    if not tables:
        return set()
    cur.execute(sql.SQL(" UNION ALL ").join(
        sql.SQL("SELECT {} WHERE NOT EXISTS (SELECT FROM {})").format(
            sql.Literal(name), _table(columns[0])) for name, columns in tables.items()))
    return {row[0] for row in cur.fetchall()}


def _table(col: dict[str, Any]) -> sql.Composed:
    return sql.SQL("{}.{}").format(sql.Identifier(col["schema"]), sql.Identifier(col["table"]))


def _tables(conn: Connection, skip: list[str]) -> dict[str, list[dict[str, Any]]]:
    keys = ("name", "schema", "table", "column", "type", "category", "typtype", "not_null",
            "has_default", "refers_to")
    tables: dict[str, list[dict[str, Any]]] = {}
    with conn.cursor() as cur:
        cur.execute(_COLUMNS_SQL, {"skip": skip})
        for row in cur.fetchall():
            col = dict(zip(keys, row, strict=True))
            tables.setdefault(col["name"], []).append(col)
    return tables


def _parents_first(tables: dict[str, list[dict[str, Any]]]) -> list[str]:
    order: list[str] = []
    visiting: set[str] = set()

    def visit(name: str) -> None:
        if name in order or name in visiting:
            return
        visiting.add(name)
        for col in tables[name]:
            parent = (col["refers_to"] or "").rpartition(".")[0]
            if parent in tables and parent != name:
                visit(parent)
        order.append(name)

    for name in tables:
        visit(name)
    return order


def _expression(col: dict[str, Any], known: dict[str, str]) -> str | None:
    """An SQL expression of ``g`` for the column, or None to leave it to its default/NULL."""
    if col["has_default"]:
        return None
    if col["refers_to"] and col["refers_to"] in known:
        return known[col["refers_to"]]
    cast = f"::{col['type']}"
    if col["typtype"] == "e":
        values = f"enum_range(NULL{cast})"
        return f"({values})[1 + g % cardinality({values})]"
    if col["type"] in _BY_TYPE:
        return f"{_BY_TYPE[col['type']]}{cast}"
    template = _BY_CATEGORY.get(col["category"])
    if template is None:
        return f"g::text{cast}" if col["not_null"] else None
    label = "'" + col["column"][:20].replace("'", "''") + "'"
    return f"{template.format(label=label)}{cast}"


def _insert(cur: Any, first: dict[str, Any], chosen: list[tuple[dict[str, Any], str]],
            rows: int) -> str | None:
    target = _table(first)
    names = sql.SQL(", ").join(sql.Identifier(col["column"]) for col, _ in chosen)
    values = sql.SQL(", ").join(sql.SQL(expr) for _, expr in chosen)
    if chosen:
        statement = sql.SQL("INSERT INTO {} ({}) SELECT {} FROM generate_series(1, {}) g").format(
            target, names, values, sql.Literal(rows))
    else:
        statement = sql.SQL("INSERT INTO {} SELECT FROM generate_series(1, {}) g").format(
            target, sql.Literal(rows))
    try:
        cur.execute(statement)
    except psycopg2.Error as exc:
        return (str(exc).strip().splitlines() or [type(exc).__name__])[0]
    return None
