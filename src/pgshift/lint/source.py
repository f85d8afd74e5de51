"""A SQL file as the linter sees it: statements with positions, DO-block SQL, inline ignores.

Positions from libpg_query are byte offsets into the UTF-8 text; ``SourceText.position`` turns
them into 1-based line and character column. ``-- pgshift:ignore RULE[, RULE] -- reason`` in
the comments before a statement applies to that statement (and to the SQL of a DO block).
"""

from __future__ import annotations

import json
import re
from bisect import bisect_right
from dataclasses import dataclass, field

from pgshift.lint.nodes import Node
from pgshift.lint.plpgsql import do_body, embedded_sql

IGNORE = "pgshift:ignore"
BACKFILL = b"-- pgshift:backfill"


@dataclass
class Statement:
    """One statement: ``index`` in the file (DO-block SQL shares its DO's), type and fields."""

    index: int
    kind: str
    node: Node
    offset: int
    in_do: bool = False
    length: int = 0
    # Marked ``-- pgshift:backfill``: pgshift's runner runs it in batches.
    backfill: bool = False


@dataclass
class Ignore:
    """An inline ignore comment and the statement it applies to (-1: none follows)."""

    line: int
    column: int
    rules: tuple[str, ...]
    statement: int
    used: set[str] = field(default_factory=set)


class SqlSyntaxError(Exception):
    """PostgreSQL's parser rejected the text; line and column are 1-based."""

    def __init__(self, message: str, line: int, column: int) -> None:
        super().__init__(message)
        self.message, self.line, self.column = message, line, column


class SourceText:
    """UTF-8 text with byte offset -> (line, column) conversion."""

    def __init__(self, text: str) -> None:
        self.text = text
        self.data = text.encode("utf-8")
        self._starts: list[int] | None = None

    def position(self, offset: int) -> tuple[int, int]:
        if self._starts is None:
            starts = [0]
            find = self.data.find
            at = find(b"\n")
            while at >= 0:
                starts.append(at + 1)
                at = find(b"\n", at + 1)
            self._starts = starts
        line = bisect_right(self._starts, offset)
        start = self._starts[line - 1]
        column = len(self.data[start:offset].decode("utf-8", "replace")) + 1
        return line, column


# pg_dump's way: the whole statement on one line, its rows on the lines after, up to "\.".
_COPY_FROM_STDIN = re.compile(r"\s*COPY\b.*\bFROM\s+STDIN\b.*;\s*$", re.IGNORECASE)


def blank_meta_commands(text: str) -> str:
    """psql backslash commands (``\\connect``, ``\\restrict``) and the rows of ``COPY … FROM
    stdin`` (psql sends the lines up to ``\\.`` as data) blanked, line numbers kept."""
    lines = text.split("\n")
    in_data = False
    for number, line in enumerate(lines):
        if in_data:
            in_data = line != "\\."
            lines[number] = ""
        elif line.lstrip().startswith("\\"):
            lines[number] = ""
        elif _COPY_FROM_STDIN.match(line):
            in_data = True
    return "\n".join(lines)


def parse_tree(text: str) -> list[Node]:
    """libpg_query's statement list for ``text``; raises SqlSyntaxError with its position."""
    from pglast import parser

    try:
        return json.loads(parser.parse_sql_json(text)).get("stmts") or []
    except parser.ParseError as exc:
        offset = exc.args[1] if len(exc.args) > 1 and isinstance(exc.args[1], int) else 0
        offset = max(0, min(offset, len(text)))
        line = text.count("\n", 0, offset) + 1
        column = offset - (text.rfind("\n", 0, offset) + 1) + 1
        raise SqlSyntaxError(str(exc.args[0]), line, column) from None


def parse_source(text: str, *, meta_commands: bool = False) -> tuple[
        SourceText, list[Statement], list[Ignore]]:
    """Statements (DO-block SQL expanded after its DO) and inline ignores of ``text``.

    ``meta_commands``: on a syntax error, retry with psql backslash lines blanked.
    """
    try:
        raw = parse_tree(text)
    except SqlSyntaxError:
        if not meta_commands or "\\" not in text:
            raise
        text = blank_meta_commands(text)
        raw = parse_tree(text)
    source = SourceText(text)
    statements: list[Statement] = []
    ignores: list[Ignore] = []
    data = source.data
    previous_end = 0
    for index, item in enumerate(raw):
        offset = item.get("stmt_location", 0)
        gap = data[previous_end:offset]
        if IGNORE.encode() in gap:
            ignores.extend(_ignores(source, previous_end, offset, index))
        previous_end = offset + item.get("stmt_len", len(data) - offset)
        ((kind, node),) = item["stmt"].items()
        statements.append(Statement(index, kind, node, offset, length=previous_end - offset,
                                    backfill=BACKFILL in gap))
        if kind == "DoStmt":
            statements.extend(_do_statements(source, index, node))
            if IGNORE.encode() in data[offset:previous_end]:  # inside the body: the DO's
                ignores.extend(_ignores(source, offset, previous_end, index))
    if IGNORE.encode() in data[previous_end:]:
        ignores.extend(_ignores(source, previous_end, len(data), -1))
    return source, statements, ignores


def _ignores(source: SourceText, start: int, end: int, statement: int) -> list[Ignore]:
    found = []
    gap = source.data[start:end]
    at = gap.find(IGNORE.encode())
    while at >= 0:
        line_start = gap.rfind(b"\n", 0, at) + 1
        line_end = gap.find(b"\n", at)
        line_text = gap[line_start: line_end if line_end >= 0 else len(gap)].decode("utf-8")
        dashes = line_text.find("--")
        if 0 <= dashes < line_text.find(IGNORE) and not line_text[dashes + 2:line_text.find(
                IGNORE)].strip():
            spec = line_text[line_text.find(IGNORE) + len(IGNORE):].split("--", 1)[0]
            rules = tuple(r for r in spec.replace(",", " ").split() if r)
            line, column = source.position(start + line_start + len(
                line_text[:dashes].encode("utf-8")))
            found.append(Ignore(line, column, rules, statement))
        at = gap.find(IGNORE.encode(), at + len(IGNORE))
    return found


def _do_statements(source: SourceText, index: int, node: Node) -> list[Statement]:
    found = do_body(node, source.data)
    if found is None:
        return []
    body, body_start = found
    body_data = source.data[body_start:]
    nested: list[Statement] = []
    for sql, line in embedded_sql(body):
        # Where the statement starts: its text, searched from the start of its body line.
        line_offset = 0
        for _ in range(line - 1):
            line_offset = body_data.find(b"\n", line_offset) + 1
        head = sql.strip().split("\n", 1)[0].encode("utf-8")
        at = body_data.find(head, line_offset) if head else -1
        base = body_start + (at if at >= 0 else line_offset)
        try:
            raw = parse_tree(sql)
        except SqlSyntaxError:
            continue
        for item in raw:
            ((kind, fields),) = item["stmt"].items()
            nested.append(Statement(index, kind, fields, base + item.get("stmt_location", 0),
                                    in_do=True))
    return nested
