"""Files in pgshift's cache directory: written whole or not at all, and never an error.

Every cache (discovery, split memo, lint results, lint-gate passes) is a marshal file there.
A write goes to a temporary file renamed over the old one, so a reader never sees half of
it; a directory that cannot be written only means the next run starts cold. The directory
gets a ``.gitignore`` in case someone points the cache into a project.
"""

from __future__ import annotations

import contextlib
import marshal
import os
import time
from pathlib import Path
from typing import Any


def write(file: Path, data: Any) -> None:
    """``data`` marshalled into ``file``, atomically, at best effort."""
    tmp = file.with_name(f".{file.name}.{os.getpid()}.tmp")
    try:
        file.parent.mkdir(parents=True, exist_ok=True)
        ignore = file.parent / ".gitignore"
        if not ignore.exists():
            ignore.write_text("*\n")
        tmp.write_bytes(marshal.dumps(data))
        os.replace(tmp, file)
    except (OSError, ValueError):  # ValueError: something marshal cannot write
        with contextlib.suppress(OSError):
            tmp.unlink(missing_ok=True)


def read(file: Path) -> Any:
    """What ``file`` holds, or None when it is missing, unreadable or not marshal data."""
    try:
        return marshal.loads(file.read_bytes())
    except (OSError, EOFError, ValueError, TypeError):
        return None


def prune(directory: Path, pattern: str, older_than: float) -> None:
    """Remove the files matching ``pattern`` in ``directory`` not modified for ``older_than``
    seconds, at best effort."""
    limit = time.time() - older_than
    with contextlib.suppress(OSError):
        for old in directory.glob(pattern):
            with contextlib.suppress(OSError):
                if old.stat().st_mtime < limit:
                    old.unlink()
