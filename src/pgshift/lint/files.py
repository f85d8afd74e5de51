"""Which files to lint, in which order, and which earlier files give them schema context.

A directory means its migration files in version order (``*.sql`` found recursively, undo and
``.down.sql`` files left out): each file is linted with the schema left by the ones before it.
A file named on its own is linted after replaying the migrations before it in its directory.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from pgshift.errors import InputError


@dataclass(frozen=True)
class Unit:
    """Files processed in order with one schema; ``lint`` False means replay only."""

    files: tuple[tuple[Path, bool], ...]

    @property
    def targets(self) -> int:
        return sum(1 for _, lint in self.files if lint)


def natural_key(path: Path) -> tuple:
    """Sort key: numbers compare as numbers (V2 < V10), repeatable (R__) files last."""
    parts: list[tuple] = []
    for part in path.parts:
        chunks: list[tuple[int, int | str]] = []
        digits = ""
        text = ""
        for char in part:
            if char.isdigit():
                if text:
                    chunks.append((1, text.lower()))
                    text = ""
                digits += char
            else:
                if digits:
                    chunks.append((0, int(digits)))
                    digits = ""
                text += char
        if digits:
            chunks.append((0, int(digits)))
        if text:
            chunks.append((1, text.lower()))
        parts.append((1 if part.startswith("R__") else 0, tuple(chunks)))
    return tuple(parts)


def is_down_file(path: Path) -> bool:
    name = path.name.lower()
    if name.endswith(".down.sql") or name in ("down.sql", "undo.sql"):
        return True
    return path.name[:1] == "U" and path.name[1:2].isdigit() and "__" in path.name


def migration_files(directory: Path) -> list[Path]:
    """The SQL files of a migrations directory, in the order they run."""
    found = []
    for path in directory.rglob("*.sql"):
        relative = path.relative_to(directory)
        if any(p.startswith(".") for p in relative.parts) or is_down_file(path):
            continue
        if path.is_file():
            found.append(path)
    return sorted(found, key=lambda p: natural_key(p.relative_to(directory)))


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
            raise InputError("no such file or directory", path=path)
    for parent, targets in singles.items():
        units.append(_file_unit(parent, targets, with_history))
    return units


def _file_unit(parent: Path, targets: list[Path], with_history: bool) -> Unit:
    chosen = {t.resolve() for t in targets}
    if not with_history or not all(t.suffix == ".sql" for t in targets):
        return Unit(tuple((t, True) for t in targets))
    siblings = [p for p in parent.iterdir() if p.suffix == ".sql" and p.is_file()
                and not is_down_file(p)]
    ordered = sorted(set(siblings) | set(targets), key=lambda p: natural_key(Path(p.name)))
    last = max(i for i, p in enumerate(ordered) if p.resolve() in chosen)
    return Unit(tuple((p, p.resolve() in chosen) for p in ordered[: last + 1]))
