"""Lint results cached by content: a file's key chains its checksum with every earlier file's.

A file's findings depend on its text, on the options and on the schema left by the files
before it, so the key of file *n* hashes the key of file *n-1* with file *n*'s checksum. Any
change earlier in a directory re-lints everything after it; nothing else is ever re-linted.
One cache file per directory (per lint scope) holds the entries of the last run. It also
remembers each file's checksum by its stat signature (size, mtime, inode), so a warm run
reads no file whose signature is unchanged.
"""

from __future__ import annotations

import hashlib
import marshal
import os
import sys
import time
from pathlib import Path

Row = tuple[str, str, str, str, int, int]  # rule, severity, message, hint, line, column
Signature = tuple[int, int, int]  # size, mtime_ns, inode
_FORMAT = 2
# A file modified this recently may change again within the same mtime tick: its stat
# signature is not trusted (git's "racy" entries), so it is read and hashed next time.
_RACY_NS = 2_000_000_000


def engine_fingerprint() -> str:
    """Changes whenever the linter's code (or pglast) changes, invalidating every entry: its
    own modules, and up's readers of files that lint calls (parse, split, discovery,
    placeholders, callbacks), whose refusals it reports."""
    from importlib.util import find_spec

    parts = [f"{_FORMAT}"]
    spec = find_spec("pglast")  # locates pglast without importing it (importing costs 40 ms)
    package = os.path.dirname(os.path.dirname(__file__))
    entries = sorted(_sources(os.path.dirname(__file__))
                     + _sources(os.path.join(package, "migrations"))
                     + [(path, os.stat(path)) for path in (
                         os.path.join(package, "placeholders.py"),
                         os.path.join(package, "callbacks.py"))])
    if spec is not None and spec.origin:
        entries += sorted(_sources(os.path.dirname(spec.origin), prefix="parser", deep=False))
    for path, stat in entries:
        parts.append(f"{path}:{stat.st_size}:{stat.st_mtime_ns}")
    return hashlib.sha256("\n".join(parts).encode()).hexdigest()


def _sources(folder: str, *, prefix: str = "", deep: bool = True
             ) -> list[tuple[str, os.stat_result]]:
    """``folder``'s ``*.py`` files (with ``deep``, its subfolders' too), or its files named
    ``prefix*``, with their stat: ``os.scandir``, as every ``up`` runs this (Path.rglob takes
    four times as long)."""
    found = []
    with os.scandir(folder) as entries:
        for entry in entries:
            if entry.is_dir():
                if deep and entry.name != "__pycache__":
                    found += _sources(entry.path)
            elif entry.name.startswith(prefix) and (prefix or entry.name.endswith(".py")):
                found.append((entry.path, entry.stat()))
    return found


def chain(previous: str, checksum: str, name: str, lint: bool) -> str:
    return hashlib.sha256(f"{previous}\0{checksum}\0{name}\0{int(lint)}".encode()).hexdigest()


class ResultCache:
    """Findings by chained key, stored in ``directory`` for one scope (a directory linted)."""

    def __init__(self, directory: Path, scope: str) -> None:
        digest = hashlib.sha256(scope.encode()).hexdigest()[:20]
        self.path = directory / f"lint-{digest}.marshal"
        self._schemas = directory / f"lint-{digest}.schemas"
        self._checkpoints: dict[str, bytes] | None = None
        self._new_checkpoints: dict[str, bytes] = {}
        self._old: dict[str, list[Row]] = {}
        self._new: dict[str, list[Row]] = {}
        self._old_stats: dict[str, tuple[Signature, str]] = {}
        self._stats: dict[str, tuple[Signature, str]] = {}
        try:
            data = marshal.loads(self.path.read_bytes())
            if isinstance(data, dict) and data.get("format") == _FORMAT:
                self._old = data["entries"]
                self._old_stats = data["stats"]
        except (OSError, EOFError, ValueError, TypeError, KeyError):
            self._old, self._old_stats = {}, {}

    def checksum(self, path: str, signature: Signature) -> str | None:
        """The checksum remembered for ``path`` if its stat signature is unchanged."""
        known = self._old_stats.get(path)
        if known is not None and known[0] == signature:
            self._stats[path] = known
            return known[1]
        return None

    def remember(self, path: str, signature: Signature, checksum: str) -> None:
        if time.time_ns() - signature[1] > _RACY_NS:
            self._stats[path] = (signature, checksum)

    def checkpoint(self, key: str) -> bytes | None:
        """The pickled schema after the file whose chained key is ``key``, if cached."""
        if self._checkpoints is None:
            self._checkpoints = {}
            try:
                data = marshal.loads(self._schemas.read_bytes())
                if isinstance(data, dict) and data.get("format") == _FORMAT:
                    self._checkpoints = data["schemas"]
            except (OSError, EOFError, ValueError, TypeError, KeyError):
                pass
        return self._checkpoints.get(key)

    def put_checkpoint(self, key: str, schema: bytes) -> None:
        self._new_checkpoints[key] = schema

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
        """Write this run's entries, keeping older ones up to a bound (linting a single file
        must not evict its directory's entries); a failure to write is ignored."""
        if self._new_checkpoints:
            self._write(self._schemas, {"format": _FORMAT, "schemas": self._new_checkpoints})
        if all(k in self._old for k in self._new) and self._stats == self._old_stats:
            return
        limit = max(4 * len(self._new), 20_000)
        for key, rows in self._old.items():
            if len(self._new) >= limit:
                break
            self._new.setdefault(key, rows)
        for path, known in self._old_stats.items():
            self._stats.setdefault(path, known)
        # Identical strings become one object, which marshal then writes once.
        entries = {key: [tuple(sys.intern(f) if isinstance(f, str) else f for f in row)
                         for row in rows] for key, rows in self._new.items()}
        self._write(self.path, {"format": _FORMAT, "entries": entries, "stats": self._stats})

    @staticmethod
    def _write(path: Path, data: dict) -> None:
        from pgshift import cache_files

        cache_files.write(path, data)
