"""Where each migration text's statements begin and end, remembered by the text's SHA-256.

Splitting needs PostgreSQL's parser, and importing pglast costs about 40 ms, more than
splitting a thousand files. A text split in an earlier run is split again from what this memo
remembers: the same bytes always split the same way, so a stale entry cannot exist (unlike a
cache keyed by file name or date). The memo also remembers that a text passed the check for
statements that cannot run inside a transaction block.

It lives in the user's cache directory, is written atomically and at best effort, is ignored
when unreadable or made by other code (pgshift's splitter or pglast's parser changed), and
keeps the entries of the last runs only.
"""

from __future__ import annotations

import contextlib
import contextvars
import hashlib
from collections.abc import Iterator
from pathlib import Path

from pgshift import cache_files

Bounds = tuple[int, ...]  # start, length, start, length, ... of each statement in the text
_FORMAT = 1
_KEEP = 20_000  # entries kept from earlier runs beside this run's

# The memo of the ``remembering`` block this thread is in: per context, because fleet runs
# (``up --all-targets``) migrate several targets at once, each in a thread of its own.
_active: contextvars.ContextVar[SplitMemo | None] = contextvars.ContextVar(
    "split_memo", default=None)


class SplitMemo:
    """Statement bounds by text digest, loaded from and saved to ``file``."""

    def __init__(self, file: Path) -> None:
        self.file = file
        self.stamp = _code_stamp()
        self._old = _load(file, self.stamp)
        self._new: dict[bytes, tuple[Bounds, bool]] = {}

    def get(self, digest: bytes) -> tuple[Bounds, bool] | None:
        """``(bounds, checked)``: ``checked`` when the text passed the transaction check."""
        found = self._new.get(digest) or self._old.get(digest)
        if found is not None:
            self._new[digest] = found
        return found

    def put(self, digest: bytes, bounds: Bounds, checked: bool) -> None:
        self._new[digest] = (bounds, checked)

    def save(self) -> None:
        if all(self._old.get(k) == v for k, v in self._new.items()):
            return  # nothing learnt
        entries = dict(self._old) if len(self._old) + len(self._new) <= _KEEP else {}
        entries.update(self._new)
        cache_files.write(self.file, {"format": _FORMAT, "stamp": self.stamp, "entries": entries})


def digest(text: str) -> bytes:
    return hashlib.sha256(text.encode("utf-8", "surrogatepass")).digest()


def active() -> SplitMemo | None:
    return _active.get()


@contextlib.contextmanager
def remembering(cache_dir: Path | None) -> Iterator[None]:
    """Within it, splits are remembered in ``cache_dir`` (None: not at all), saved at the end."""
    if cache_dir is None or _active.get() is not None:
        yield
        return
    memo = SplitMemo(cache_dir / "statements.marshal")
    token = _active.set(memo)
    try:
        yield
    finally:
        _active.reset(token)
        memo.save()


def _code_stamp() -> str:
    """Changes with the code that splits: this package's splitter and pglast's parser."""
    from importlib.util import find_spec

    here = Path(__file__).parent
    files = [here / "statements.py", here / "split_memo.py"]
    spec = find_spec("pglast")  # found without importing it
    if spec is not None and spec.origin:
        files += sorted(Path(spec.origin).parent.glob("parser*"))
    parts = []
    for path in files:
        with contextlib.suppress(OSError):
            stat = path.stat()
            parts.append(f"{path}:{stat.st_size}:{stat.st_mtime_ns}")
    return "\n".join(parts)


def _load(file: Path, stamp: str) -> dict[bytes, tuple[Bounds, bool]]:
    data = cache_files.read(file)
    if not isinstance(data, dict) or (data.get("format"), data.get("stamp")) != (_FORMAT, stamp):
        return {}
    entries = data.get("entries")
    return entries if isinstance(entries, dict) else {}
