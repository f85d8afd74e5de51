"""Lint results cached by content: a file's key chains its checksum with every earlier file's.

A file's findings depend on its text, on the options and on the schema left by the files
before it, so the key of file *n* hashes the key of file *n-1* with file *n*'s checksum. Any
change earlier in a directory re-lints everything after it; nothing else is ever re-linted.
One cache file per directory (per lint scope) holds the entries of the last run.
"""

from __future__ import annotations

import hashlib
import marshal
import os
from pathlib import Path

Row = tuple[str, str, str, str, int, int]  # rule, severity, message, hint, line, column
_FORMAT = 1


def engine_fingerprint() -> str:
    """Changes whenever the linter's code (or pglast) changes, invalidating every entry."""
    from importlib.metadata import version

    here = Path(__file__).parent
    parts = [f"{_FORMAT}", version("pglast")]
    for path in sorted(here.rglob("*.py")):
        stat = path.stat()
        parts.append(f"{path.relative_to(here)}:{stat.st_size}:{stat.st_mtime_ns}")
    return hashlib.sha256("\n".join(parts).encode()).hexdigest()


def chain(previous: str, checksum: str, name: str, lint: bool) -> str:
    return hashlib.sha256(f"{previous}\0{checksum}\0{name}\0{int(lint)}".encode()).hexdigest()


class ResultCache:
    """Findings by chained key, stored in ``directory`` for one scope (a directory linted)."""

    def __init__(self, directory: Path, scope: str) -> None:
        digest = hashlib.sha256(scope.encode()).hexdigest()[:20]
        self.path = directory / f"lint-{digest}.marshal"
        self._old: dict[str, list[Row]] = {}
        self._new: dict[str, list[Row]] = {}
        try:
            data = marshal.loads(self.path.read_bytes())
            if isinstance(data, dict) and data.get("format") == _FORMAT:
                self._old = data["entries"]
        except (OSError, EOFError, ValueError, TypeError, KeyError):
            self._old = {}

    def get(self, key: str) -> list[Row] | None:
        rows = self._new.get(key)
        if rows is None:
            rows = self._old.get(key)
            if rows is not None:
                self._new[key] = rows
        return rows

    def put(self, key: str, rows: list[Row]) -> None:
        self._new[key] = rows

    def save(self) -> None:
        """Write this run's entries (older ones are dropped); a failure to write is ignored."""
        if self._new == self._old:
            return
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            ignore = self.path.parent / ".gitignore"
            if not ignore.exists():
                ignore.write_text("*\n")
            tmp = self.path.with_suffix(f".{os.getpid()}.tmp")
            tmp.write_bytes(marshal.dumps({"format": _FORMAT, "entries": self._new}))
            os.replace(tmp, self.path)
        except OSError:
            pass
