"""A SQL file as the linter sees it: statements with positions, DO-block SQL, inline ignores.

Positions from libpg_query are byte offsets into the UTF-8 text; ``SourceText.position`` turns
them into 1-based line and character column. ``-- pgshift:ignore RULE[, RULE] -- reason`` in
the comments before a statement applies to that statement (and to the SQL of a DO block).
"""

from __future__ import annotations

import re
from bisect import bisect_right
from dataclasses import dataclass, field

from pgshift.lint.nodes import Node, load_tree
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
# Meta-commands that send the query buffer, as ';' does (``SELECT … \gexec``).
_SENDS_QUERY = frozenset({"g", "gx", "gset", "gexec", "gdesc", "crosstabview", "watch"})
_META_WORD = re.compile(r"[a-zA-Z]*")
_DOLLAR_TAG = re.compile(r"\$([A-Za-z_\x80-\uffff][A-Za-z0-9_\x80-\uffff]*)?\$")


def blank_meta_commands(text: str) -> str:
    """psql's backslash commands blanked, as psql does not send them, line numbers and columns
    kept: a line of its own (``\\connect``, ``\\restrict``) or the end of a line of SQL
    (``SELECT … \\gexec``, which ends the statement as ';' does), outside strings, quoted names
    and comments; and the rows of ``COPY … FROM stdin`` (the lines up to ``\\.``)."""
    out = list(text)
    lines = text.split("\n")
    starts = [0]
    for line in lines[:-1]:
        starts.append(starts[-1] + len(line) + 1)
    scanner = _Scanner(text)
    number = 0
    while number < len(lines):
        line, start = lines[number], starts[number]
        end = start + len(line)
        meta = scanner.meta_at(start, end)
        while meta is not None and text.startswith("\\;", meta):  # a ';' that does not send
            out[meta:meta + 2] = " ;"
            scanner.skip_to(meta + 2)
            meta = scanner.meta_at(meta + 2, end)
        if meta is not None:
            word = _META_WORD.match(text, meta + 1)
            sends = (word.group() if word else "") in _SENDS_QUERY
            out[meta:end] = (";" if sends else " ") + " " * (end - meta - 1)
            scanner.skip_to(end)
        elif scanner.at_top(end) and _COPY_FROM_STDIN.match(line):
            number += 1
            while number < len(lines) and lines[number] != "\\.":
                out[starts[number]:starts[number] + len(lines[number])] = " " * len(
                    lines[number])
                number += 1
            if number < len(lines):
                out[starts[number]:starts[number] + 2] = "  "
            scanner.skip_to(starts[number] + 2 if number < len(lines) else len(text))
        number += 1
    return "".join(out)


class _Scanner:
    """Walks SQL text once, telling where a backslash is outside strings, quoted names and
    comments (psql's meta-commands start there)."""

    def __init__(self, text: str) -> None:
        self.text, self.at, self.state = text, 0, ""
        self.tag, self.depth, self.escapes = "", 0, False

    def skip_to(self, offset: int) -> None:
        """Go on from ``offset`` (not scanned: a meta-command, COPY rows), outside any quote."""
        self.at, self.state = max(self.at, offset), ""

    def at_top(self, offset: int) -> bool:
        """Whether ``offset`` is outside any string, quoted name or comment."""
        self._run(offset)
        return self.state in ("", "--")

    def meta_at(self, start: int, end: int) -> int | None:
        """The offset of the first meta-command backslash in ``[start, end)``, if any."""
        if "\\" not in self.text[start:end]:
            self._run(end)
            return None
        self._run(start)
        while self.at < end:
            if self.state == "" and self.text[self.at] == "\\":
                return self.at
            self._step()
        return None

    def _run(self, offset: int) -> None:
        while self.at < offset:
            self._step()

    def _step(self) -> None:
        text, at = self.text, self.at
        char = text[at]
        if self.state == "":
            if text.startswith("--", at):
                self.state, self.at = "--", at + 2
                return
            if text.startswith("/*", at):
                self.state, self.depth, self.at = "/*", 1, at + 2
                return
            if char == "'":
                self.state = "'"
                self.escapes = at > 0 and text[at - 1] in "eE" and (
                    at < 2 or not (text[at - 2].isalnum() or text[at - 2] == "_"))
            elif char == '"':
                self.state = '"'
            elif char == "$":
                match = _DOLLAR_TAG.match(text, at)
                if match and not (at > 0 and (text[at - 1].isalnum() or text[at - 1] == "_")):
                    self.state, self.tag, self.at = "$", match.group(), match.end()
                    return
            self.at = at + 1
        elif self.state == "--":
            if char == "\n":
                self.state = ""
            self.at = at + 1
        elif self.state == "/*":
            if text.startswith("*/", at):
                self.depth -= 1
                self.state = "/*" if self.depth else ""
                self.at = at + 2
            elif text.startswith("/*", at):
                self.depth += 1
                self.at = at + 2
            else:
                self.at = at + 1
        elif self.state == "$":
            end = text.find(self.tag, at)
            self.state, self.at = ("", end + len(self.tag)) if end >= 0 else ("$", len(text))
        else:  # inside '…' or "…"
            if self.state == "'" and self.escapes and char == "\\":
                self.at = at + 2
            elif char == self.state:
                self.at = at + 1
                if text.startswith(self.state, self.at):  # a doubled quote
                    self.at += 1
                else:
                    self.state = ""
            else:
                self.at = at + 1


def parse_tree(text: str) -> list[Node]:
    """libpg_query's statement list for ``text``; raises SqlSyntaxError with its position."""
    from pglast import parser

    try:
        return load_tree(parser.parse_sql_json(text)).get("stmts") or []
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
