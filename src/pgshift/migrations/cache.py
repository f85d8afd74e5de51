"""What reading each migration file produced, remembered by the file's stat signature.

``status`` and a no-op ``up`` look at every file of the directory on every run, and opening,
hashing and parsing a thousand files costs more than the rest of the command. Like git's
index, this cache remembers each file's checksum, up and down parts and directives with its
signature (size, mtime, ctime, inode): a file whose signature is unchanged is not opened again.

- One cache file per migrations directory (and flavor), in ``Settings.cache_dir``: the user's
  cache, never the project, where a pull request could commit a cache that forges checksums.
  It holds a key of everything that decides what a file reads as: the directory's absolute
  path, the flavor, pgshift's version and the code that parses. A cache with another key is
  ignored and overwritten (so an upgrade leaves no stale file behind).
- It holds the files as they are: placeholders are filled after it (checksums are the raw
  files' too), so their values, often secrets, are neither in it nor in its key.
- A file changed less than ``RACY_NS`` before the run started may change again within the same
  timestamp tick (git's "racy" entries): it is not remembered, so the next run reads it.
- Only a discovery that succeeded saves, and only what was read without error: a bad file is
  read, and refused, on every run.
- A cache that cannot be read or is not ours is ignored and rewritten; writes are atomic, and a
  failure to write is ignored.
- ``trust=False`` reads every file and refreshes the cache: for ``validate``, and for the
  commands that change the database other than ``up``. ``up`` trusts it as ``status`` does
  for what is applied, and ``confirm``s on the disk every file it is about to run.
"""

from __future__ import annotations

import marshal
import os
import zlib
from collections.abc import Iterable
from dataclasses import fields
from pathlib import Path
from time import time_ns
from typing import Any

from pgshift import cache_files
from pgshift.migrations.model import Directives
from pgshift.migrations.parse import checksum, parse_text, read_text

# Bump when the layout of an entry changes.
_FORMAT = 1
# A directory's cache not rewritten for this long is dropped (its directory is likely gone; if
# not, its next run reads the files once and writes it again).
STALE_DAYS = 30
# git's racy window, wide enough for filesystems with 2-second timestamps (FAT).
RACY_NS = 2_000_000_000
# The code that decides what a file parses to: editing it (or upgrading pgshift) starts afresh.
_PARSING_CODE = ("migrations/cache.py", "migrations/parse.py", "migrations/model.py",
                 "config.py", "backfill/options.py")

# checksum, up_sql, down_sql, down_line, directives: what discovery needs of a parsed file.
Parsed = tuple[str, str, "str | None", int, Directives]
_DEFAULT = Directives()
_FIELDS = tuple(f.name for f in fields(Directives))


class DiscoveryCache:
    """Reads files of one directory, from the cache when their signature is unchanged.

    Without a ``file`` it only reads (and never saves). ``hits`` counts files not opened.
    """

    def __init__(self, file: Path | None = None, key: str = "", *, trust: bool = True) -> None:
        self.file = file
        self.key = key
        self.hits = 0
        self._hits: dict[str, Any] = {}  # name: what the cache said it reads as
        self._started = time_ns()  # before any stat: the racy window's reference
        self._old: dict[str, Any] = _load(file, key) if file is not None and trust else {}
        self._new: dict[str, Any] = {}

    @classmethod
    def open(cls, cache_dir: Path, directory: Path, *, flavor: str | None = None,
             trust: bool = True) -> DiscoveryCache:
        """The cache of ``directory`` (read as ``flavor``)."""
        where = f"{os.path.abspath(directory)}\0{flavor or ''}"
        # A name, not a secret: two folders whose names collide only take turns.
        name = f"discover-{zlib.crc32(where.encode()):08x}.marshal"
        return cls(cache_dir / name, f"{where}\0{_code_version()}", trust=trust)

    def text(self, path: Path) -> str:
        """The file's normalised text (InputError for an unreadable or non-UTF-8 file)."""
        signature = self._signature(path)
        value = self._lookup(path.name, signature, str)
        if value is not None:
            return value
        text = read_text(path)
        self._remember(path.name, signature, text)
        return text

    def parsed(self, path: Path) -> Parsed:
        """The file's checksum and parts (InputError for a bad file, which is never cached)."""
        signature = self._signature(path)
        value = self._lookup(path.name, signature, tuple)
        if value is not None:
            sha, up, down, down_line, directives = value
            return sha, up, down, down_line, directives
        text = read_text(path)
        parts = parse_text(text, path)
        sha = checksum(text)
        directives = parts.directives
        stored = None if directives == _DEFAULT else tuple(getattr(directives, f) for f in _FIELDS)
        self._remember(path.name, signature,
                       (sha, parts.up_sql, parts.down_sql, parts.down_line, stored))
        return sha, parts.up_sql, parts.down_sql, parts.down_line, directives

    def confirm(self, paths: Iterable[Path]) -> bool:
        """Whether each of ``paths`` that came from the cache still reads, from the disk, as
        the cache said: what ``up`` is about to run and record, before it runs.

        One read, hash and parse per file, where discovering again would redo the whole
        directory. InputError for a file that can no longer be read.
        """
        for path in paths:
            value = self._hits.get(path.name)
            if value is None:  # read from the disk in this run
                continue
            text = read_text(path)
            if type(value) is str:
                fresh: Any = text
            else:
                parts = parse_text(text, path)
                fresh = (checksum(text), parts.up_sql, parts.down_sql, parts.down_line,
                         parts.directives)
            if fresh != value:
                return False
        return True

    def save(self, *, complete: bool = True) -> None:
        """Write this run's entries when they differ from the cache's (best effort, atomic),
        and drop the caches of directories no run has changed for ``STALE_DAYS``.

        A run that stopped at a bad file (not ``complete``) read only the files before it:
        they are added to the entries it did not reach, so that the run after the fix reads
        only what changed (and the next complete run drops the entries of files gone)."""
        entries = self._new if complete else {**self._old, **self._new}
        if self.file is None or entries == self._old:
            return
        cache_files.write(self.file, {"format": _FORMAT, "key": self.key, "entries": entries})
        cache_files.prune(self.file.parent, "discover-*.marshal", STALE_DAYS * 86_400)

    def _signature(self, path: Path) -> tuple[int, int, int, int] | None:
        try:
            stat = os.stat(path)
        except OSError:
            return None  # reading it raises the error the user should see
        return stat.st_size, stat.st_mtime_ns, stat.st_ctime_ns, stat.st_ino

    def _lookup(self, name: str, signature: tuple[int, int, int, int] | None,
                kind: type) -> Any:
        """What ``name`` read as when it had this signature (a ``kind``), else None."""
        entry = self._old.get(name)
        if signature is None or entry is None:
            return None
        try:
            stored, value = entry
            if stored != signature or type(value) is not kind:
                return None
            if kind is tuple:  # checksum, up, down, down line, directive values or None
                sha, up, down, down_line, directives = value
                value = (sha, up, down, down_line,
                         _DEFAULT if directives is None else Directives(*directives))
        except (TypeError, ValueError):  # not what this code writes: read the file
            return None
        self.hits += 1
        self._hits[name] = value
        self._new[name] = entry
        return value

    def _remember(self, name: str, signature: tuple[int, int, int, int] | None,
                  value: object) -> None:
        if signature is not None and self._started - max(signature[1:3]) > RACY_NS:
            self._new[name] = (signature, value)


def _load(file: Path, key: str) -> dict[str, Any]:
    try:
        with open(file, "rb") as handle:
            data = marshal.loads(handle.read())
        if data["format"] == _FORMAT and data["key"] == key and type(data["entries"]) is dict:
            return data["entries"]
    except Exception:  # missing, unreadable, truncated, corrupt or foreign: start afresh
        pass
    return {}


def _code_version() -> str:
    """pgshift's version and the signature of its parsing code (an edit in a checkout counts)."""
    from pgshift import __version__

    package = os.path.dirname(os.path.dirname(__file__))
    parts = [str(_FORMAT), __version__]
    for name in _PARSING_CODE:
        try:
            stat = os.stat(os.path.join(package, name))
            parts.append(f"{name}:{stat.st_size}:{stat.st_mtime_ns}")
        except OSError:
            parts.append(name)
    return "\0".join(parts)
