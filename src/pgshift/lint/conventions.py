"""Other migration tools' file conventions: where the up part ends, whether it is a transaction.

goose (``-- +goose Up`` / ``Down`` / ``NO TRANSACTION``), sql-migrate (``-- +migrate Up
notransaction`` / ``Down``) and dbmate (``-- migrate:up transaction:false`` / ``migrate:down``)
keep the up and down SQL in one file and run the up part in a transaction unless told not to.
Only the up part runs on deploy, so only it is linted.
"""

from __future__ import annotations

from dataclasses import dataclass

_MARKERS = ("-- +goose", "-- +migrate", "-- migrate:")


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


def tool_file(text: str) -> ToolFile | None:
    """The up part of a goose/sql-migrate/dbmate file, or None for any other file."""
    if not any(marker in text for marker in _MARKERS):
        return None
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
