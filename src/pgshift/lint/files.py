"""Which files to lint, in which order, and which earlier files give them schema context.

A directory means its migration files in version order (``*.sql`` found recursively, undo and
``.down.sql`` files left out): each file is linted with the schema left by the ones before it.
A file named on its own is linted after replaying the migrations before it in its directory.
"""

from __future__ import annotations

import os
import re
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from pgshift.errors import InputError


@dataclass(frozen=True)
class Unit:
    """Files (path strings) processed in order with one schema; ``lint`` False: replay only."""

    files: tuple[tuple[str, bool], ...]

    @property
    def targets(self) -> int:
        return sum(1 for _, lint in self.files if lint)


_DIGITS = re.compile(r"(\d+)")


def _padded(match: re.Match[str]) -> str:
    return match.group().lstrip("0").zfill(24)


def natural_key(relative: str) -> str:
    """Sort key of a relative path: numbers compare as numbers (V2 < V10), R__ files last."""
    parts = relative.replace(os.sep, "/").split("/")
    return "/".join(("~" if p.startswith("R__") else " ") + _DIGITS.sub(_padded, p.lower())
                    for p in parts)


def is_down_file(name: str) -> bool:
    lower = name.lower()
    if lower.endswith(".down.sql") or lower in ("down.sql", "undo.sql"):
        return True
    return name[:1] == "U" and name[1:2].isdigit() and "__" in name


def migration_files(directory: Path) -> list[str]:
    """The SQL files of a migrations directory, in the order they run."""
    found: list[tuple[str, str, str]] = []
    root = str(directory)

    def unreadable(exc: OSError) -> None:  # os.walk would skip it: 0 files, a false pass
        raise InputError(f"cannot read directory: {exc.strerror}", path=exc.filename or root)

    for folder, subfolders, names in os.walk(root, onerror=unreadable):
        subfolders[:] = [d for d in subfolders if not d.startswith(".")]
        prefix = os.path.relpath(folder, root)
        for name in names:
            if name.endswith(".sql") and not name.startswith(".") and not is_down_file(name):
                relative = name if prefix == "." else os.path.join(prefix, name)
                # By name first: files in subfolders run in version order with the others.
                found.append((natural_key(name), natural_key(relative), relative))
    found.sort()
    return [os.path.join(root, relative) for _, _, relative in found]


def collect(paths: Sequence[Path], *, with_history: bool = True) -> list[Unit]:
    """Units to lint for the given files and directories.

    ``with_history``: replay a named file's earlier siblings first (off when the schema
    comes from a database or a schema file instead).
    """
    units: list[Unit] = []
    singles: dict[Path, list[Path]] = {}
    for path in paths:
        if path.is_dir():
            units.append(Unit(tuple((f, True) for f in migration_files(path))))
        elif path.is_file():
            singles.setdefault(path.parent, []).append(path)
        else:
            raise InputError("no such file or directory", path=path,
                             hint="name migration files or directories to lint")
    for parent, targets in singles.items():
        units.append(_file_unit(parent, targets, with_history))
    return units


def _file_unit(parent: Path, targets: list[Path], with_history: bool) -> Unit:
    if not with_history or not all(t.suffix == ".sql" for t in targets):
        return Unit(tuple((str(t), True) for t in targets))
    chosen = {t.resolve() for t in targets}
    siblings = [p for p in parent.iterdir() if p.suffix == ".sql" and p.is_file()
                and not is_down_file(p.name)]
    ordered = sorted(set(siblings) | set(targets), key=lambda p: natural_key(p.name))
    last = max(i for i, p in enumerate(ordered) if p.resolve() in chosen)
    return Unit(tuple((str(p), p.resolve() in chosen) for p in ordered[: last + 1]))
