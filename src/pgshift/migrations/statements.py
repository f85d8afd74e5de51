"""Statements of a migration, found with PostgreSQL's own parser (pglast, imported lazily).

Used before anything runs: to split a ``no-transaction`` file into the statements it runs one
by one, and to refuse a transactional file holding statements PostgreSQL cannot run inside a
transaction block (``CREATE INDEX CONCURRENTLY`` and friends) or transaction control of its own.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

from pgshift.errors import InputError


@dataclass(frozen=True)
class Statement:
    """One top-level statement: its text, character offset and 1-based line in the file."""

    text: str
    offset: int
    line: int
    node: Any
    path: Path


def line_at(text: str, offset: int) -> int:
    return text.count("\n", 0, offset) + 1


def split_statements(sql: str, path: Path, *, first_line: int = 1) -> list[Statement]:
    """Parse ``sql`` (whose line 1 is ``first_line`` of ``path``) into statements."""
    from pglast import parser

    try:
        raw = parser.parse_sql(sql)
    except parser.ParseError as exc:
        position = exc.args[1] if len(exc.args) > 1 else 0
        raise InputError(
            f"syntax error: {exc.args[0]}", path=path, line=first_line - 1 + line_at(sql, position),
        ) from None
    statements = []
    for item in raw:
        start = item.stmt_location
        end = start + item.stmt_len if item.stmt_len else len(sql)
        text = sql[start:end].strip()
        if not text:
            continue
        # stmt_location points at leading whitespace/comments too; report the statement's own line.
        lead = len(sql[start:end]) - len(sql[start:end].lstrip())
        statements.append(Statement(text, start + lead, first_line - 1 + line_at(sql, start + lead),
                                    item.stmt, path))
    return statements


def needs_no_transaction(node: Any) -> str | None:
    """Why PostgreSQL refuses ``node`` inside a transaction block, or None if it does not."""
    kind = type(node).__name__
    if kind == "IndexStmt" and node.concurrent:
        return "CREATE INDEX CONCURRENTLY"
    if kind == "DropStmt" and node.concurrent:
        return "DROP INDEX CONCURRENTLY"
    if kind == "ReindexStmt" and any(p.defname == "concurrently" for p in node.params or ()):
        return "REINDEX CONCURRENTLY"
    if kind == "AlterTableStmt":
        for cmd in node.cmds or ():
            definition = getattr(cmd, "def_", None)
            if type(definition).__name__ == "PartitionCmd" and definition.concurrent:
                return "DETACH PARTITION CONCURRENTLY"
    simple = {
        "VacuumStmt": "VACUUM",
        "CreatedbStmt": "CREATE DATABASE",
        "DropdbStmt": "DROP DATABASE",
        "AlterSystemStmt": "ALTER SYSTEM",
        "CreateTableSpaceStmt": "CREATE TABLESPACE",
        "DropTableSpaceStmt": "DROP TABLESPACE",
    }
    if kind == "VacuumStmt" and not node.is_vacuumcmd:
        return None  # ANALYZE runs fine in a transaction
    return simple.get(kind)


def is_transaction_control(node: Any) -> bool:
    return type(node).__name__ == "TransactionStmt"


def check_transactional(sql: str, path: Path) -> None:
    """Refuse, before anything runs, a transactional file PostgreSQL would fail half-way."""
    lowered = sql.lower()
    # Cheap pre-filter: most files have none of these words and need no parse at all.
    if not any(word in lowered for word in ("concurrently", "vacuum", "database", "system",
                                            "tablespace", "begin", "commit", "rollback",
                                            "start", "end", "abort", "savepoint", "prepare")):
        return
    for statement in split_statements(sql, path):
        reason = needs_no_transaction(statement.node)
        if reason:
            raise InputError(
                f"{reason} cannot run inside a transaction block",
                hint="put it in its own migration with '-- pgshift:no-transaction' at the top",
                path=path,
                line=statement.line,
            )
        if is_transaction_control(statement.node) and statement.node.kind.name not in (
            "TRANS_STMT_SAVEPOINT", "TRANS_STMT_RELEASE", "TRANS_STMT_ROLLBACK_TO",
        ):
            raise InputError(
                "transaction control (BEGIN/COMMIT/ROLLBACK) inside a migration",
                hint="pgshift runs each migration in its own transaction; remove it, or use "
                "'-- pgshift:no-transaction'",
                path=path,
                line=statement.line,
            )
