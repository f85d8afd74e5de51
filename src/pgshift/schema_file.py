"""The schema file (``pgshift dump``): the database's schema, or the one its migrations make
on a throwaway server, written at once for version control and compared for CI.
"""

from __future__ import annotations

import contextlib
import os
from dataclasses import replace
from typing import TYPE_CHECKING

from pgshift.api import _session, up
from pgshift.errors import InputError

if TYPE_CHECKING:
    from pathlib import Path

    from pgshift.config import Settings


def dump_schema(settings: Settings) -> str:
    """The database's schema as SQL, stable across machines and runs, then its applied
    migrations as comments (see ``pgshift.schema_dump``). Needs ``pg_dump``."""
    from pgshift.schema_dump import dump_schema as dump

    with _session(settings) as conn:
        return dump(conn, settings)


def dump_migrations_schema(settings: Settings) -> str:
    """``dump_schema`` of what the migrations make: all of them applied to an empty database on
    a throwaway server (PostgreSQL ``pg-version`` when set), which is then stopped. Needs no
    database, only PostgreSQL's binaries; lint is left to ``lint`` and ``up``."""
    from pgshift.verify.scratch import ScratchDatabase

    with ScratchDatabase(settings, embedded=True, prefer_major=settings.pg_version) as scratch:
        scratch_settings = replace(settings, url=scratch.url, lint=False)
        # the schema once every migration ran, as verify and squash replay them: an expand
        # migration and its contract one in the same run are the point here
        up(scratch_settings, allow_contract=True)
        return dump_schema(scratch_settings)


def write_schema_file(settings: Settings, path: Path | None = None, *,
                      embedded: bool = False) -> Path:
    """Write ``dump_schema`` (``dump_migrations_schema`` when ``embedded``) to ``path``
    (default: the ``schema-file`` setting), replacing the file at once: a reader never sees
    half of it. Returns the path."""
    import tempfile

    target = path or settings.schema_file
    if target is None:
        raise InputError("no file to write the schema to", hint="set schema-file, or pass one")
    text = dump_migrations_schema(settings) if embedded else dump_schema(settings)
    try:
        target.parent.mkdir(parents=True, exist_ok=True)
        mode = target.stat().st_mode & 0o777 if target.exists() else 0o644
        handle, temporary = tempfile.mkstemp(prefix=f".{target.name}.", dir=target.parent)
    except OSError as exc:
        raise InputError(f"cannot write the schema file: {exc.strerror}", path=target) from None
    try:
        with os.fdopen(handle, "w", encoding="utf-8") as out:
            out.write(text)
        os.chmod(temporary, mode)  # mkstemp's file is private; the schema file is not
        os.replace(temporary, target)
    except BaseException as exc:
        with contextlib.suppress(OSError):
            os.unlink(temporary)
        if isinstance(exc, OSError):
            raise InputError(f"cannot write the schema file: {exc.strerror}",
                             path=target) from None
        raise
    return target


def schema_file_diff(settings: Settings, path: Path | None = None, *,
                     embedded: bool = False) -> list[str]:
    """How ``path`` (default: the ``schema-file`` setting) differs from what ``dump_schema``
    (``dump_migrations_schema`` when ``embedded``) gives now, as unified diff lines; empty when
    it is up to date. For CI."""
    import difflib

    target = path or settings.schema_file
    if target is None:
        raise InputError("no schema file to compare", hint="set schema-file, or pass one")
    try:
        written = target.read_text(encoding="utf-8")
    except FileNotFoundError:
        written = ""
    except (OSError, UnicodeDecodeError) as exc:
        raise InputError(f"cannot read {target}: {exc}") from None
    now = dump_migrations_schema(settings) if embedded else dump_schema(settings)
    source = "what the migrations make" if embedded else "the database"
    return list(difflib.unified_diff(written.splitlines(), now.splitlines(), str(target),
                                     source, lineterm="", n=1))

