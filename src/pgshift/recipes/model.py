"""What a recipe takes (RecipeParams) and writes (RecipeFile), and how its SQL is spelled."""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from pgshift.errors import InputError

_PLAIN = re.compile(r"^[a-z_][a-z0-9_$]*$")


@dataclass(frozen=True)
class ColumnInfo:
    """What the database says about an existing column (for down parts and sync triggers)."""

    type: str
    not_null: bool = False
    default: str | None = None


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


def qualified(name: str) -> str:
    """``schema.table`` or ``table`` as given on the command line, each part quoted as needed."""
    parts = name.split(".")
    if len(parts) > 2 or not all(parts):
        raise InputError(f"not a table name: '{name}'", hint="use table or schema.table")
    return ".".join(ident(p) for p in parts)


def bare(name: str) -> str:
    """The last part of ``schema.table``."""
    return name.split(".")[-1]


def schema_prefix(name: str) -> str:
    """``schema.`` of ``schema.table`` (quoted), or '' for an unqualified table."""
    parts = name.split(".")
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
    """A name for an index, constraint or trigger: ``users_email_idx`` (max 63 bytes)."""
    words = re.sub(r"[^0-9a-zA-Z_]+", "_", "_".join(parts)).strip("_").lower()
    return f"{words[: 62 - len(suffix)]}_{suffix}"
