"""Split a migration file into its up and down parts and read its ``-- pgshift:`` directives.

Directives are SQL comments. The file-level ones (``no-transaction``, ``lock-timeout 3s``,
``statement-timeout 10m``, ``timeout 10m``, ``lock-retries 5``, ``irreversible``,
``phase expand|contract``) must stand at the top, before the first statement. ``down`` starts the
down part; ``ignore`` and ``backfill`` annotate the statement after them. Any other name is an
error, never silently ignored. ``backfill [option=value ...]`` marks an UPDATE to run in batches
(options in ``pgshift.backfill.options``); its file must be ``no-transaction``.
"""

from __future__ import annotations

import os
import re
from dataclasses import dataclass, replace
from errno import EINVAL
from pathlib import Path
from stat import S_ISREG

from pgshift.config import parse_duration
from pgshift.errors import InputError
from pgshift.migrations.model import Directives

PREFIX = "-- pgshift:"
FILE_DIRECTIVES = frozenset(
    {
        "no-transaction",
        "irreversible",
        "lock-timeout",
        "statement-timeout",
        "timeout",
        "lock-retries",
        "phase",
    }
)
STATEMENT_DIRECTIVES = frozenset({"ignore", "backfill"})
DOWN = "down"


@dataclass(frozen=True)
class ParsedFile:
    """A migration file's parts. ``up_sql`` keeps the file's line numbers."""

    up_sql: str
    down_sql: str | None
    down_line: int
    directives: Directives


def normalize(raw: bytes, path: Path) -> str:
    """Decode UTF-8 (BOM stripped) with ``\\n`` line endings, or raise naming the file."""
    if raw.startswith(b"\xef\xbb\xbf"):
        raw = raw[3:]
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        line = raw[: exc.start].count(b"\n") + 1
        raise InputError(
            f"not valid UTF-8 (byte 0x{raw[exc.start]:02x} at offset {exc.start})",
            hint="save the file as UTF-8",
            path=path,
            line=line,
        ) from None
    return text.replace("\r\n", "\n").replace("\r", "\n")


def read_text(path: Path) -> str:
    """The file's text, normalised; InputError naming the file if it cannot be read."""
    try:
        raw = read_bytes(path)
    except OSError as exc:
        raise InputError(f"cannot read file: {exc.strerror}", path=path) from None
    return normalize(raw, path)


def read_bytes(path: Path | str) -> bytes:
    """The file's bytes. OSError for one that is not a regular file: a named pipe would block
    the run forever (it is opened without blocking, then refused)."""
    # Plain file descriptor calls: a third of the cost of read_bytes() for small files, and
    # up reads each file it runs (status, every file without a discovery cache).
    fd = os.open(path, _READ_FLAGS)
    try:
        if not S_ISREG(os.fstat(fd).st_mode):
            raise OSError(EINVAL, "not a regular file")
        chunks = [os.read(fd, _CHUNK)]
        while len(chunks[-1]) == _CHUNK:  # a short read is the end of a regular file
            chunks.append(os.read(fd, _CHUNK))
    finally:
        os.close(fd)
    return chunks[0] if len(chunks) == 1 else b"".join(chunks)


_READ_FLAGS = (os.O_RDONLY | getattr(os, "O_BINARY", 0) | getattr(os, "O_CLOEXEC", 0)
               | getattr(os, "O_NONBLOCK", 0))
_CHUNK = 1 << 16


def checksum(text: str) -> str:
    """SHA-256 of the normalised text: a change of BOM or line endings alone is no change."""
    import hashlib  # here: a run served by the discovery cache hashes nothing

    return hashlib.sha256(text.encode("utf-8")).hexdigest()


_DIRECTIVE = r"(?m)^[ \t]*-- pgshift:(.*)$"  # compiled on first use: cached runs parse nothing


# A comment line that means a directive but is not written as one ('--pgshift:', '-- PGSHIFT:',
# '-- pgshift: name'): read as a plain comment, it would be silently ignored.
_NEAR_DIRECTIVE = r"(?im)^[ \t]*--[ \t]*pgshift[ \t]*:"


def directive_lines(text: str) -> list[re.Match[str]]:
    """The ``-- pgshift:`` lines that are comments: not lines of a string, a function body
    (``$$ … $$``) or a block comment, which PostgreSQL's scanner tells apart."""
    return _comment_lines(text, _DIRECTIVE)


def refuse_near_directives(text: str, path: Path) -> None:
    """InputError at a comment line written almost as a directive: a directive is never
    silently ignored, a misspelt one neither."""
    if "pgshift" not in text and "PGSHIFT" not in text.upper():
        return
    for match in _comment_lines(text, _NEAR_DIRECTIVE):
        line_end = text.find("\n", match.start())
        written = text[match.start():line_end if line_end >= 0 else len(text)].strip()
        if written.startswith("-- pgshift:") and written[len("-- pgshift:"):][:1].strip():
            continue  # a directive as it should be (the pattern cannot tell at line starts)
        raise InputError(f"'{written}' is written almost as a directive, and would be "
                         "ignored as a comment", path=path,
                         line=text.count("\n", 0, match.start()) + 1,
                         hint="write a directive as '-- pgshift:name' (lowercase, one space "
                              "after '--', none after the colon), or reword the comment")


def _comment_lines(text: str, pattern: str) -> list[re.Match[str]]:
    matches = list(re.finditer(pattern, text))
    last = matches[-1].start() if matches else 0
    if not any(quote in text[:last] for quote in ("'", "$", "/*")):
        return matches  # nothing before them can be open: the common case, no scan
    from pglast import parser

    try:
        tokens = parser.scan(text)
    except parser.ParseError:  # an unterminated string: the split reports it with its line
        return matches
    comments = {t.start for t in tokens if t.name == "SQL_COMMENT"}  # character offsets
    return [m for m in matches if text.index("--", m.start()) in comments]


def parse_text(text: str, path: Path) -> ParsedFile:
    """Read the directives and split the up part from the down part (after ``-- pgshift:down``).

    Only ``-- pgshift:`` comment lines are looked at (found with one C-level scan), so a
    file without directives costs next to nothing: ``status`` reads thousands of them.
    """
    refuse_near_directives(text, path)
    directives = Directives()
    down_at: int | None = None
    down_offset = 0
    backfill_at: int | None = None
    for match in directive_lines(text):
        number = text.count("\n", 0, match.start()) + 1
        name, _, argument = match[1].strip().partition(" ")
        argument = argument.strip()
        if name == DOWN:
            if down_at is not None:
                raise InputError("a second '-- pgshift:down' line", path=path, line=number)
            down_at, down_offset = number, match.end()
        elif name in STATEMENT_DIRECTIVES:
            if name == "backfill":
                from pgshift.backfill.options import check_directive

                check_directive(argument, path, number)
                backfill_at = backfill_at or number
        elif name in FILE_DIRECTIVES:
            if down_at is not None or not _only_comments(text[: match.start()]):
                raise InputError(
                    f"directive '{name}' must be at the top of the file, before any statement",
                    path=path,
                    line=number,
                )
            directives = apply_directive(directives, name, argument, path, number)
        else:
            known = ", ".join(sorted(FILE_DIRECTIVES | STATEMENT_DIRECTIVES | {DOWN}))
            raise InputError(
                f"unknown directive '-- pgshift:{name}'",
                hint=f"known: {known}",
                path=path,
                line=number,
            )
    if backfill_at is not None and directives.transactional:
        raise InputError(
            "a backfill commits batch by batch, outside any migration transaction",
            hint="add '-- pgshift:no-transaction' at the top of the file "
                 "(see docs/zero-downtime.md)",
            path=path, line=backfill_at)
    if down_at is None:
        return ParsedFile(text, None, 1, directives)
    line_start = text.rfind("\n", 0, down_offset) + 1
    up = text[:line_start]
    down = text[down_offset + 1 :] if down_offset < len(text) else ""
    return ParsedFile(up, down, down_at + 1, directives)


# goose and sql-migrate keep up and down in one file behind these lines; pgshift reads neither
# tool, and as plain SQL such a file would run its down part right after its up part.
_OTHER_TOOLS = {"goose": "goose", "migrate": "sql-migrate"}
_OTHER_MARK = r"(?m)^[ \t]*--[ \t]*\+(goose|migrate)\b[^\n]*"


def refuse_other_tools(text: str, path: Path, first_line: int = 1) -> None:
    """InputError at the first goose (``-- +goose Up``) or sql-migrate (``-- +migrate Up``)
    line of ``text`` (whose line 1 is ``first_line`` of ``path``)."""
    if "+goose" not in text and "+migrate" not in text:  # both tools spell them in lowercase
        return  # the common case: no regex
    match = re.search(_OTHER_MARK, text)
    if match is None:
        return
    tool = _OTHER_TOOLS[match[1]]
    raise InputError(
        f"'{match[0].strip()}' is a {tool} line: pgshift does not run {tool} files",
        hint="pgshift reads flyway, pgmigrate, node-pg-migrate, dbmate and golang-migrate files:"
             f" convert the {tool} file to pgshift's (see docs/coming-from.md)",
        path=path, line=first_line + text.count("\n", 0, match.start()))


def _only_comments(head: str) -> bool:
    return all(not line.strip() or line.lstrip().startswith("--") for line in head.split("\n"))


def apply_directive(directives: Directives, name: str, argument: str, path: Path,
                    line: int) -> Directives:
    """``directives`` with the file directive ``name`` ``argument`` (at ``line``) applied."""
    def fail(message: str) -> InputError:
        return InputError(message, path=path, line=line)

    flags = {"no-transaction": ("transactional", False), "irreversible": ("irreversible", True)}
    if name in flags:
        if argument:
            raise fail(f"directive '{name}' takes no argument (got '{argument}')")
        field, value = flags[name]
        return replace(directives, **{field: value})
    if not argument:
        raise fail(f"directive '{name}' needs a value")
    if name == "phase":
        if argument not in ("expand", "contract"):
            raise fail(f"phase must be 'expand' or 'contract', not '{argument}'")
        return replace(directives, phase=argument)  # type: ignore[arg-type]
    if name == "lock-retries":
        if not argument.isdigit():
            raise fail(f"lock-retries needs a whole number, not '{argument}'")
        return replace(directives, lock_retries=int(argument))
    try:
        seconds = parse_duration(argument)
    except ValueError as exc:
        raise fail(f"{name}: {exc}") from None
    return replace(directives, **{name.replace("-", "_"): seconds})
