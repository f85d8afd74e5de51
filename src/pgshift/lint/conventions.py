r"""Other migration tools' file conventions: where the up part ends, whether it is a transaction.

goose (``-- +goose Up`` / ``Down`` / ``NO TRANSACTION``), sql-migrate (``-- +migrate Up
notransaction`` / ``Down``), dbmate (``-- migrate:up transaction:false`` / ``migrate:down``) and
node-pg-migrate (``-- Up Migration`` / ``-- Down Migration``, matched as it matches them:
``^\s*--[\s-]*up\s+migration``, any case) keep the up and down SQL in one file and run the up
part in a transaction unless told not to. Only the up part runs on deploy, so only it is
linted.

A dbmate file (a marker line as dbmate matches it) is read by ``pgshift.migrations.flavors``, as
``pgshift up`` reads it: the same up part, the same transaction option (the up marker's own),
and the same refusals (SQL before the first marker, a second marker), raised as InputError.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

_MARKERS = ("-- +goose", "-- +migrate", "-- migrate:")
_NODE_PG = re.compile(r"^\s*--[\s-]*(up|down)\s+migration", re.I | re.M)


@dataclass(frozen=True)
class ToolFile:
    """The up SQL (line numbers kept) and whether the tool runs it in a transaction."""

    sql: str
    transactional: bool
    tool: str


def _marker(line: str) -> tuple[str, str] | None:
    """``(direction, options)`` for a tool's up/down marker line."""
    text = " ".join(line.strip().lower().split())
    for prefix in ("-- +goose ", "-- +migrate "):
        if text.startswith(prefix):
            word, _, rest = text[len(prefix):].partition(" ")
            if word in ("up", "down"):
                return word, rest
            if word == "no" and rest == "transaction":
                return "notx", ""
    if text.startswith(("-- migrate:up", "-- migrate:down")):
        word, _, rest = text[len("-- migrate:"):].partition(" ")
        return word, rest
    return None


def tool_file(text: str, path: Path | None = None) -> ToolFile | None:
    """The up part of a goose/sql-migrate/dbmate/node-pg-migrate file, or None for any other
    file. A dbmate file ``up`` would refuse raises the same InputError (at ``path``)."""
    if "migrate:" in text:  # dbmate also reads '--migrate:up', without the space
        dbmate = _dbmate(text, path or Path("migration.sql"))
        if dbmate is not None:
            return dbmate
    if not any(marker in text for marker in _MARKERS):
        return _node_pg_migrate(text) if "igration" in text else None
    lines = text.split("\n")
    found = ""
    transactional = True
    keep: list[str] = []
    direction = "up"
    for line in lines:
        marker = _marker(line) if line.lstrip().startswith("--") else None
        if marker is not None:
            word, options = marker
            found = found or line.split()[1].lstrip("+").split(":")[0]
            if word == "notx" or "notransaction" in options or "transaction:false" in options:
                transactional = False
            if word in ("up", "down"):
                direction = word
        keep.append(line if direction == "up" else "")
    if not found:
        return None
    names = {"goose": "goose", "migrate": "sql-migrate"}
    tool = "dbmate" if found == "migrate" and "-- migrate:" in text else names.get(found, found)
    return ToolFile("\n".join(keep), transactional, tool)


def _node_pg_migrate(text: str) -> ToolFile | None:
    """node-pg-migrate's SQL file: the text between its up marker and its down marker, line
    numbers kept. Without an up marker it is not taken for one (a comment that merely mentions
    a "down migration" must not hide the rest of a plain file)."""
    markers = list(_NODE_PG.finditer(text))
    up = next((m for m in markers if m.group(1).lower() == "up"), None)
    if up is None:
        return None
    down = next((m for m in markers if m.group(1).lower() == "down"
                 and m.start() > up.start()), None)
    start = up.start()
    end = down.start() if down is not None else len(text)
    keep = "\n" * text.count("\n", 0, start) + text[start:end]
    return ToolFile(keep + "\n" * text.count("\n", end), True, "node-pg-migrate")


def _dbmate(text: str, path: Path) -> ToolFile | None:
    """A dbmate file read as ``pgshift up`` reads it, or None when no line is a dbmate marker."""
    from pgshift.migrations.flavors import read_dbmate_file

    migration = read_dbmate_file(path, text)
    if migration is None:
        return None
    return ToolFile(migration.up_sql, migration.directives.transactional, "dbmate")
