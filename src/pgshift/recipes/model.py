"""What a recipe takes (RecipeParams) and writes (RecipeFile), and how its SQL is spelled."""

from __future__ import annotations

import hashlib
import json
import re
from dataclasses import dataclass, field
from typing import Any

from pgshift.errors import InputError

_PLAIN = re.compile(r"^[a-z_][a-z0-9_$]*$")
_QUOTED = re.compile(r'"(?:[^"]|"")+"')
_PART = rf'{_QUOTED.pattern}|[^".][^.]*'
_TABLE = re.compile(rf"({_PART})(?:\.({_PART}))?")
_OUTSIDE_QUOTES = r'(?=(?:[^"]*"[^"]*")*[^"]*$)'
_COMMA, _OPEN, _CLOSE = (re.compile(c + _OUTSIDE_QUOTES) for c in (",", r"\(", r"\)"))


@dataclass(frozen=True)
class ColumnInfo:
    """What the database says about an existing column (for down parts and sync triggers)."""

    type: str
    not_null: bool = False
    default: str | None = None
    collation: str | None = None  # as COLLATE takes it, when not the type's own
    comment: str | None = None
    statistics: int | None = None  # SET STATISTICS, when set
    identity: str | None = None  # 'GENERATED … AS IDENTITY (…)', with its sequence's options
    sequence: str | None = None  # the sequence the column owns (serial), identity's aside

    @property
    def collate(self) -> str:
        """`` COLLATE x`` for a column type, or ''."""
        return f" COLLATE {self.collation}" if self.collation else ""


@dataclass(frozen=True)
class Partition:
    """A partition of the recipe's table, as the database lists it (add-index builds on each)."""

    schema: str
    name: str
    kind: str = "r"  # pg_class.relkind: 'r', 'p' (partitioned: its own partitions follow), 'f'
    partitions: tuple[Partition, ...] | None = None

    @property
    def table(self) -> str:
        return f"{ident(self.schema)}.{ident(self.name)}"


@dataclass(frozen=True)
class RecipeParams:
    """Everything a recipe may need; each recipe says which ones it requires."""

    table: str | None = None
    column: str | None = None
    type: str | None = None
    default: str | None = None
    new_column: str | None = None
    check: str | None = None
    constraint: str | None = None
    references: str | None = None
    values: tuple[str, ...] = ()
    columns: str | None = None
    unique: bool = False
    using: str | None = None
    reverse_using: str | None = None
    not_null: bool = False
    partition: str | None = None
    bounds: str | None = None
    cutoff: str | None = None
    until: str | None = None
    like: str | None = None
    existing: ColumnInfo | None = None  # filled in from the database when reachable
    collation: str | None = None  # change-column-type: the old column's, if --type takes one
    partitions: tuple[Partition, ...] | None = None  # the table's, when it is partitioned (idem)

    def need(self, recipe: str, *names: str) -> None:
        missing = [n for n in names if not getattr(self, n)]
        if missing:
            flags = ", ".join("--" + n.replace("_", "-") for n in missing)
            raise InputError(f"recipe {recipe} needs {flags}",
                             hint=f"see 'pgshift create --recipe {recipe} --help'")


@dataclass(frozen=True)
class RecipeFile:
    """One migration a recipe writes: its name words and its whole text."""

    words: str
    text: str


@dataclass(frozen=True)
class Step:
    """One migration of a recipe, before it becomes file text."""

    words: str
    summary: str
    up: list[str]
    down: list[str]
    phase: str = "expand"
    transactional: bool = True
    notes: list[str] = field(default_factory=list)
    irreversible: bool = False

    def render(self, recipe: str, number: int, count: int) -> RecipeFile:
        lines = [f"-- {self.summary}", f"-- Written by 'pgshift create --recipe {recipe}' "
                 f"(step {number} of {count})."]
        lines += [f"-- {note}" for note in self.notes]
        if not self.transactional:
            lines.append("-- pgshift:no-transaction")
        if self.irreversible:
            lines.append("-- pgshift:irreversible")
        lines.append(f"-- pgshift:phase {self.phase}")
        lines += ["", *self.up]
        if not self.irreversible:
            lines += ["", "-- pgshift:down", *(self.down or ["-- Nothing to undo."])]
        words = re.sub(r"[^0-9a-z]+", "_", self.words.lower()).strip("_")
        return RecipeFile(words, "\n".join(lines) + "\n")


def ident(name: str) -> str:
    """An SQL identifier, double-quoted when it needs it."""
    from pglast.keywords import RESERVED_KEYWORDS, TYPE_FUNC_NAME_KEYWORDS

    if _PLAIN.match(name) and name not in RESERVED_KEYWORDS and (
            name not in TYPE_FUNC_NAME_KEYWORDS):
        return name
    return '"' + name.replace('"', '""') + '"'


def name_parts(name: str) -> list[str]:
    """``schema.table`` or ``table`` split into its names. A part in double quotes is read as
    SQL reads it (``app."Odd Table"``); any other part is the name exactly as written."""
    match = _TABLE.fullmatch(name)
    if match is None:
        raise InputError(f"not a table name: '{name}'", hint='use table or schema.table; a '
                         'part in double quotes is read as SQL reads it: app."Odd Table"')
    return [_unquoted(part) for part in match.groups() if part is not None]


def column_names(text: str) -> list[str]:
    """A comma-separated list of column names, each read as ``name_parts`` reads a part."""
    names = [part.strip() for part in _COMMA.split(text)]
    if not all(_QUOTED.fullmatch(n) or (n and '"' not in n) for n in names):
        raise InputError(f"not a list of column names: '{text}'",
                         hint='separate them with commas, e.g. id or "Id", tenant_id')
    return [_unquoted(n) for n in names]


def referenced(text: str) -> tuple[str, list[str], str]:
    """--references ``table(col, ...) [ON DELETE ...]``: the table as ``name_parts`` reads it,
    the column names (none: the table's primary key) and what follows them, as written."""
    opening = _OPEN.search(text)
    closing = _CLOSE.search(text, opening.end()) if opening else None
    if opening and not closing:
        raise InputError(f"not a referenced table(column): '{text}'",
                         hint='e.g. owners(id), app."Odd Table"(id), or owners for its primary '
                         'key')
    table = (text[:opening.start()] if opening else text).strip()
    name_parts(table)
    if not (opening and closing):
        return table, [], ""
    return (table, column_names(text[opening.end():closing.start()]),
            text[closing.end():].strip())


def one_expression(text: str) -> tuple[dict[str, Any] | None, str | None]:
    """``text`` read as one SQL expression, to be written inline in a line of SQL that goes on
    after it: its pglast JSON tree, or None and why it cannot be (PostgreSQL's parser says, it
    ends in a ``--`` comment, it is more than one expression)."""
    from pglast.parser import ParseError, parse_sql_json

    if not text.strip():
        return None, "is empty"
    try:
        parse_sql_json(f"SELECT {text}")
    except ParseError as exc:
        return None, str(exc.args[0])  # about the text as written
    try:
        tree = json.loads(parse_sql_json(f"SELECT ({text})"))
    except ParseError:
        try:
            parse_sql_json(f"SELECT ({text}\n)")
        except ParseError:
            return None, "is not one expression"
        return None, "ends in a -- comment, which would hide the rest of the line it is on"
    statements = tree.get("stmts", [])
    select = statements[0]["stmt"].get("SelectStmt", {}) if len(statements) == 1 else {}
    targets = select.get("targetList", [])
    if set(select) - {"targetList", "limitOption", "op"} or select.get("op") != "SETOP_NONE" \
            or len(targets) != 1 or "name" in targets[0]["ResTarget"]:
        return None, "is not one expression"
    return targets[0]["ResTarget"]["val"], None


def _unquoted(part: str) -> str:
    return part[1:-1].replace('""', '"') if _QUOTED.fullmatch(part) else part


def qualified(name: str) -> str:
    """``schema.table`` or ``table`` as given on the command line, each part quoted as needed."""
    return ".".join(ident(p) for p in name_parts(name))


def bare(name: str) -> str:
    """The last part of ``schema.table`` (unquoted)."""
    return name_parts(name)[-1]


def schema_prefix(name: str) -> str:
    """``schema.`` of ``schema.table`` (quoted), or '' for an unqualified table."""
    parts = name_parts(name)
    return ident(parts[0]) + "." if len(parts) == 2 else ""


# Why a contract step's DROP COLUMN is safe: the recipe's own sequence, and pgshift's check.
CONTRACT_DROP = ("contract step: the app no longer uses the column; pgshift refuses it while "
                 "pg_stat_statements shows queries that do")


def ignore(rule: str, reason: str) -> str:
    """The comment that suppresses lint rule ``rule`` for the next statement, saying why the
    recipe's sequence makes that statement safe."""
    return f"-- pgshift:ignore {rule} -- {reason}"


def literal(value: str) -> str:
    return "'" + value.replace("'", "''") + "'"


def object_name(*parts: str, suffix: str) -> str:
    """A name for an index, constraint or trigger: ``users_email_idx`` (max 63 bytes). Cut to
    fit, it ends in a hash of all the parts: what was cut (the column of a long table's index,
    the year of a long partition's) would otherwise give two objects one name."""
    words = re.sub(r"[^0-9a-zA-Z_]+", "_", "_".join(parts)).strip("_").lower()
    room = 62 - len(suffix)
    if len(words) > room:
        digest = hashlib.sha256("\0".join(parts).encode()).hexdigest()[:8]
        words = f"{words[: room - 9].rstrip('_')}_{digest}"
    return f"{words}_{suffix}"
