"""Statements of a migration, found with PostgreSQL's own parser (pglast, imported lazily).

Splitting uses the parser without building Python syntax trees (a few microseconds a file), so
applying a thousand migrations costs little; a statement's tree is built only when asked for
(``Statement.node``), e.g. to recognise ``CREATE INDEX CONCURRENTLY``.

Used before anything runs: to split a file into the statements run one by one (so an error
names its line), and to refuse a transactional file holding statements PostgreSQL cannot run
inside a transaction block, or transaction control of its own.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from functools import cached_property
from pathlib import Path
from typing import Any

from pgshift.errors import InputError


@dataclass(frozen=True)
class Statement:
    """One top-level statement: its text, 1-based line in its file, that file, and the
    character offset of ``text`` in the source it was split from."""

    text: str
    line: int
    path: Path
    offset: int = 0

    @cached_property
    def node(self) -> Any:
        """The statement's pglast syntax tree (parsed on first use)."""
        from pglast import parser

        return parser.parse_sql(self.text)[0].stmt


def line_at(text: str, offset: int) -> int:
    return text.count("\n", 0, offset) + 1


class _Lines:
    """Line numbers of increasing offsets of one text, each counted on from the last: a file
    of 100,000 statements costs one pass, where ``line_at`` for each would cost 100,000."""

    def __init__(self, text: str, first_line: int) -> None:
        self.text, self.line, self.offset = text, first_line, 0

    def at(self, offset: int) -> int:
        if offset < self.offset:  # not increasing after all: count from the start
            self.line -= self.text.count("\n", offset, self.offset)
        else:
            self.line += self.text.count("\n", self.offset, offset)
        self.offset = offset
        return self.line


def _skip_comments(text: str, pos: int) -> int:
    """The offset of the first token at or after ``pos`` (past blanks and comments)."""
    while True:
        while pos < len(text) and text[pos].isspace():
            pos += 1
        if text.startswith("--", pos):
            end = text.find("\n", pos)
            pos = len(text) if end < 0 else end + 1
        elif text.startswith("/*", pos):
            end = text.find("*/", pos + 2)
            pos = len(text) if end < 0 else end + 2
        else:
            return pos


def split_statements(sql: str, path: Path, *, first_line: int = 1) -> list[Statement]:
    """Split ``sql`` (whose line 1 is ``first_line`` of ``path``) into its statements.

    Raises InputError with the line of a syntax error, as PostgreSQL's parser reports it.
    """
    return statements_of(sql, path, first_line=first_line)


def statements_of(
    sql: str, path: Path, *, first_line: int = 1, transactional: bool = False
) -> list[Statement]:
    """``split_statements``, then for a ``transactional`` text ``check_transactional``; both
    from the split memo (``pgshift.migrations.split_memo``) when one is active and knows it."""
    from pgshift.migrations import split_memo

    memo = split_memo.active()
    key = split_memo.digest(sql) if memo is not None else b""
    known = memo.get(key) if memo is not None else None
    statements = _from_bounds(sql, path, first_line, known[0]) if known is not None else None
    checked = known is not None and known[1] is True
    if statements is None:
        statements, checked = _split(sql, path, first_line), False
    if transactional and not checked:
        check_transactional(statements)
        checked = True
    if memo is not None:
        memo.put(key, tuple(n for s in statements for n in (s.offset, len(s.text))), checked)
    return statements


def _split(sql: str, path: Path, first_line: int) -> list[Statement]:
    from pglast import parser

    try:
        pieces = parser.split(sql, with_parser=True)
    except parser.ParseError as exc:
        position = exc.args[1] if len(exc.args) > 1 else 0
        message = str(exc.args[0])  # usually "syntax error at or near ...": said once
        raise InputError(
            message if message.startswith("syntax error") else f"syntax error: {message}",
            path=path, line=first_line - 1 + line_at(sql, position),
            hint=_COPY_HINT if _FROM_STDIN.search(sql, 0, max(position, 0)) else None,
        ) from None
    statements = []
    cursor = 0
    lines = _Lines(sql, first_line)
    for piece in pieces:
        found = sql.find(piece, cursor)
        start = found if found >= 0 else cursor
        cursor = start + len(piece)
        token = _skip_comments(sql, start)
        statements.append(Statement(piece, lines.at(token), path, start))
        if sql[token:token + 4].lower() == "copy" and _CLIENT_COPY.search(piece):
            _refuse_client_copy(statements[-1])
    return statements


# psql sends the lines after 'COPY … FROM stdin;' as the data, and prints what COPY … TO stdout
# sends: pgshift sends statements only, and reads no rows (the server would still have run it).
_FROM_STDIN = re.compile(r"\bfrom\s+stdin\b", re.IGNORECASE)
_CLIENT_COPY = re.compile(r"\b(from\s+stdin|to\s+stdout)\b", re.IGNORECASE)
_COPY_HINT = ("pgshift sends no data after COPY … FROM stdin (psql does): write the rows as "
              "INSERT … VALUES, or COPY FROM a file on the database server")


def _refuse_client_copy(statement: Statement) -> None:
    node = statement.node
    if type(node).__name__ != "CopyStmt" or node.filename or node.is_program:
        return
    if node.is_from:
        raise InputError("COPY … FROM stdin: a migration has no data to send after it",
                         path=statement.path, line=statement.line, hint=_COPY_HINT)
    raise InputError("COPY … TO stdout: a migration has no one to print rows to",
                     path=statement.path, line=statement.line,
                     hint="leave it out, or COPY TO a file on the database server")


def _from_bounds(
    sql: str, path: Path, first_line: int, bounds: object
) -> list[Statement] | None:
    """The statements at ``bounds`` (None if they are not what the memo writes)."""
    if not isinstance(bounds, tuple) or len(bounds) % 2:
        return None
    statements = []
    lines = _Lines(sql, first_line)
    for i in range(0, len(bounds), 2):
        start, length = bounds[i], bounds[i + 1]
        if not (isinstance(start, int) and isinstance(length, int)) or start + length > len(sql):
            return None
        token = _skip_comments(sql, start)
        statements.append(Statement(sql[start:start + length], lines.at(token), path, start))
    return statements


_NO_TRANSACTION_WORDS = ("concurrently", "vacuum", "database", "system", "tablespace")
_TRANSACTION_WORDS = ("begin", "commit", "rollback", "start", "end", "abort", "prepare")


# What SET SESSION CHARACTERISTICS AS TRANSACTION changes for the session.
_CHARACTERISTICS = ("default_transaction_isolation", "default_transaction_read_only",
                    "default_transaction_deferrable")


def session_settings(statements: Sequence[Statement]) -> tuple[str, ...]:
    """What ``statements`` SET or RESET for the rest of the session, not just their
    transaction (``SET LOCAL``): parameter names, ``role``, ``session_authorization``, or
    ``all`` for ``RESET ALL``; and what else they leave in the session (``SESSION_STATE``:
    temporary tables, prepared statements, LISTEN, held cursors, advisory locks). pgshift
    resets them after the migration, so that they reach neither its own statements nor the
    next migration (see ``Runner``): a temporary table would hide a table of the same name."""
    names: list[str] = []
    for statement in statements:
        # A substring test of the lowered text: a case-insensitive regex costs 20 times more,
        # more than running the statement in a data load of 20,000 INSERTs.
        low = statement.text.lower()
        if "set_config" in low:  # rare: parsed only then
            names += _set_config_names(statement.node)
        if any(word in low for word in _SESSION_STATE_WORDS):  # as rare
            names += _session_state(statement.node)
        start = _skip_comments(statement.text, 0)
        head = statement.text[start:start + 6].lower()
        if not head.startswith(("set", "reset")) or len(head) < 4:
            continue
        node = statement.node  # parsed only for what looks like SET or RESET
        if type(node).__name__ != "VariableSetStmt" or node.is_local:
            continue
        name = node.name
        if name is None:
            names.append("all")
        elif name == "SESSION CHARACTERISTICS":
            names += _CHARACTERISTICS
        elif name not in ("TRANSACTION", "TRANSACTION SNAPSHOT"):  # this transaction's only
            names.append(name.lower())
    return tuple(dict.fromkeys(names))


_NOT_PARAMETERS = ("TRANSACTION", "TRANSACTION SNAPSHOT", "SESSION CHARACTERISTICS")


def local_settings(statements: Sequence[Statement]) -> tuple[str, ...]:
    """What ``statements`` SET for the rest of their transaction only (``SET LOCAL``,
    ``set_config(name, value, true)``; ``all`` for a name that is not a constant or a call in
    a DO block). They matter where one transaction holds several migrations
    (``--single-transaction``): there pgshift undoes them before the next migration."""
    names: list[str] = []
    for statement in statements:
        if "set_config" in statement.text.lower():
            names += _set_config_names(statement.node, local=True)
        start = _skip_comments(statement.text, 0)
        if statement.text[start:start + 3].lower() != "set":
            continue
        node = statement.node
        if (type(node).__name__ == "VariableSetStmt" and node.is_local and node.name
                and node.name not in _NOT_PARAMETERS):
            names.append(node.name.lower())
    return tuple(dict.fromkeys(names))


def local_reset_sql(names: Sequence[str]) -> str:
    """The statements that undo ``local_settings`` for the rest of the transaction."""
    if "all" in names:
        return "RESET ALL"
    return ";".join(f"SET LOCAL {name} TO DEFAULT" for name in names
                    if _PARAMETER.fullmatch(name) and name not in ("role", "session_authorization"))


# Statements whose set_config calls do not run now: a function's or a view's body runs later.
_CALLS_LATER = frozenset({"CreateFunctionStmt", "ViewStmt", "RuleStmt", "CreateTrigStmt",
                          "CreatePolicyStmt", "CommentStmt"})


def _set_config_names(node: Any, *, local: bool = False) -> list[str]:
    """The settings ``set_config(name, value, is_local)`` calls in ``node`` make for the session
    (``is_local`` not literally true; with ``local``, those that are); ``all`` when a name is
    not a constant, or the call is in a DO block, whose body the SQL parser cannot see into."""
    from pglast import ast
    from pglast.visitors import Visitor

    kind = type(node).__name__
    if kind in _CALLS_LATER:
        return []
    if kind == "DoStmt":
        return ["all"]
    names: list[str] = []

    class Calls(Visitor):
        def visit_FuncCall(self, ancestors: Any, call: Any) -> None:
            if getattr(call.funcname[-1], "sval", "") != "set_config" or len(call.args or ()) != 3:
                return
            name, _, is_local = call.args
            literally_true = isinstance(is_local, ast.A_Const) and getattr(
                is_local.val, "boolval", False)
            if literally_true != local:
                return  # this transaction's only, like SET LOCAL (or, with local, not)
            constant = isinstance(name, ast.A_Const) and isinstance(name.val, ast.String)
            names.append(name.val.sval.lower() if constant else "all")

    Calls()(node)
    return names


# What a migration may leave in the session besides settings, and how to undo it. The names
# are no parameter's (those have no parentheses).
SESSION_STATE = {"(temporary objects)": "DISCARD TEMP", "(prepared statements)": "DEALLOCATE ALL",
                 "(listen)": "UNLISTEN *", "(held cursors)": "CLOSE ALL",
                 "(advisory locks)": "SELECT pg_advisory_unlock_all()"}
_SESSION_STATE_WORDS = ("temp", "prepare", "listen", "hold", "advisory_lock", "discard")
_TEMPORARY = {"CreateStmt": "relation", "CreateSeqStmt": "sequence", "ViewStmt": "view"}
_CURSOR_OPT_HOLD = 0x0020  # PostgreSQL's parsenodes.h
_ADVISORY_LOCKS = frozenset({"pg_advisory_lock", "pg_advisory_lock_shared",
                             "pg_try_advisory_lock", "pg_try_advisory_lock_shared"})


def _session_state(node: Any) -> list[str]:
    """What ``node`` leaves in the session when it runs (see ``SESSION_STATE``)."""
    from pglast.visitors import Visitor

    kind = type(node).__name__
    if kind == "DoStmt":  # its body cannot be seen into
        return list(SESSION_STATE)
    if kind == "DiscardStmt":  # what it drops, pgshift makes again (its settings, its marker)
        return ["all", "(temporary objects)"]
    if kind in _TEMPORARY:
        relation = getattr(node, _TEMPORARY[kind])
        return ["(temporary objects)"] if relation.relpersistence == "t" else []
    into = node.into if kind == "CreateTableAsStmt" else (
        node.intoClause if kind == "SelectStmt" else None)
    if into is not None and into.rel.relpersistence == "t":
        return ["(temporary objects)"]
    if kind == "PrepareStmt":
        return ["(prepared statements)"]
    if kind == "ListenStmt":
        return ["(listen)"]
    if kind == "DeclareCursorStmt" and node.options & _CURSOR_OPT_HOLD:
        return ["(held cursors)"]
    if kind in _CALLS_LATER:
        return []
    found: list[str] = []

    class Calls(Visitor):
        def visit_FuncCall(self, ancestors: Any, call: Any) -> None:
            if getattr(call.funcname[-1], "sval", "") in _ADVISORY_LOCKS:
                found.append("(advisory locks)")

    Calls()(node)
    return found[:1]


def reset_sql(names: Sequence[str]) -> str:
    """The statements that undo ``session_settings``."""
    special = {"all": "RESET ALL", "role": "RESET ROLE",
               "session_authorization": "RESET SESSION AUTHORIZATION", **SESSION_STATE}
    ordered = sorted(names, key=lambda n: n != "session_authorization")  # it resets role too
    return ";".join(special.get(name) or f"RESET {name}" for name in ordered
                    if name in special or _PARAMETER.fullmatch(name))


_PARAMETER = re.compile(r"[a-z_][a-z0-9_$]*(\.[a-z_][a-z0-9_$]*)?")


def needs_no_transaction(node: Any) -> str | None:
    """Why PostgreSQL refuses ``node`` inside a transaction block, or None if it does not."""
    kind = type(node).__name__
    if kind == "IndexStmt" and node.concurrent:
        return "CREATE INDEX CONCURRENTLY"
    if kind == "DropStmt" and node.concurrent:
        return "DROP INDEX CONCURRENTLY"
    if kind == "ReindexStmt" and any(p.defname == "concurrently" for p in node.params or ()):
        return "REINDEX CONCURRENTLY"
    if kind == "ReindexStmt" and node.kind.name in ("REINDEX_OBJECT_SYSTEM",
                                                    "REINDEX_OBJECT_DATABASE"):
        return f"REINDEX {node.kind.name.rsplit('_', 1)[1]}"
    if kind == "DiscardStmt" and node.target.name == "DISCARD_ALL":
        return "DISCARD ALL"
    if kind == "AlterDatabaseStmt" and any(o.defname == "tablespace" for o in node.options or ()):
        return "ALTER DATABASE … SET TABLESPACE"
    if kind == "AlterTableStmt":
        for cmd in node.cmds or ():
            definition = getattr(cmd, "def_", None)
            if type(definition).__name__ == "PartitionCmd" and definition.concurrent:
                return "DETACH PARTITION CONCURRENTLY"
    if kind == "VacuumStmt" and not node.is_vacuumcmd:
        return None  # ANALYZE runs fine in a transaction
    return {
        "VacuumStmt": "VACUUM",
        "CreatedbStmt": "CREATE DATABASE",
        "DropdbStmt": "DROP DATABASE",
        "AlterSystemStmt": "ALTER SYSTEM",
        "CreateTableSpaceStmt": "CREATE TABLESPACE",
        "DropTableSpaceStmt": "DROP TABLESPACE",
    }.get(kind)


# The first words of statements that PostgreSQL runs inside a transaction block, unless they
# hold one of _ALONE_WORDS; and the words of statements that must run alone, or after which
# pgshift's own bookkeeping may no longer run in the same transaction (a role, a read-only
# transaction).
_JOINING_STARTS = frozenset({"insert", "update", "delete", "merge", "with", "select", "values",
                             "table", "create", "alter", "drop", "comment", "grant", "revoke",
                             "truncate", "analyze", "copy"})
_ALONE_WORDS = ("concurrently", "vacuum", "database", "system", "tablespace", "subscription",
                "set_config", "role", "authorization", "transaction")
_ADD_VALUE = re.compile(r"\badd\s+value\b")


def may_join_transaction(text: str) -> bool:
    """Whether a statement known by its words alone (no syntax tree) runs inside a transaction
    block, with pgshift's own statements after it in the same transaction: a no-transaction
    migration's statement then carries its progress row in its own round trip. False for
    anything unsure (it then runs alone, as before)."""
    start = _skip_comments(text, 0)
    low = text[start:].lower()
    first = low.split(None, 1)[0].rstrip(";(") if low else ""
    if first not in _JOINING_STARTS or any(word in low for word in _ALONE_WORDS):
        return False
    return not (first == "alter" and _ADD_VALUE.search(low))  # a new enum value: unused yet


def is_transaction_control(node: Any) -> bool:
    """BEGIN/COMMIT/ROLLBACK and the like (savepoints are fine inside our transaction)."""
    return type(node).__name__ == "TransactionStmt" and node.kind.name not in (
        "TRANS_STMT_SAVEPOINT",
        "TRANS_STMT_RELEASE",
        "TRANS_STMT_ROLLBACK_TO",
    )


def check_transactional(statements: list[Statement]) -> None:
    """Refuse, before anything runs, a transactional file PostgreSQL would fail half-way."""
    for statement in statements:
        lowered = statement.text.lower()
        # Cheap pre-filter: most statements contain none of these words and need no tree.
        suspicious = any(w in lowered for w in _NO_TRANSACTION_WORDS + _TRANSACTION_WORDS)
        if not suspicious:
            continue
        reason = needs_no_transaction(statement.node)
        if reason:
            raise InputError(
                f"{reason} cannot run inside a transaction block",
                hint="put it in its own migration with '-- pgshift:no-transaction' at the top",
                path=statement.path,
                line=statement.line,
            )
        if is_transaction_control(statement.node):
            raise InputError(
                "transaction control (BEGIN/COMMIT/ROLLBACK) inside a migration",
                hint="pgshift runs each migration in its own transaction; remove it, or use "
                "'-- pgshift:no-transaction'",
                path=statement.path,
                line=statement.line,
            )
