"""``pgshift dump``: the database's schema as SQL, for review in version control.

Like dbmate's ``schema.sql``: ``pg_dump --schema-only`` without owners, privileges and
pgshift's own schema, and without the lines that differ from one machine or run to the next
(pg_dump's versions, ``\\restrict`` keys), so that the file changes only when the schema does.
The applied migrations follow, as comments.
"""

from __future__ import annotations

import re
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from psycopg2.extensions import connection as Connection

    from pgshift.config import Settings
    from pgshift.state.history import HistoryEntry

_VARYING = re.compile(r"^-- Dumped (from database|by pg_dump) version .*\n", re.MULTILINE)


def dump_schema(conn: Connection, settings: Settings) -> str:
    """The schema of the database ``conn`` is on, as SQL, then its applied migrations."""
    from pgshift.pgdump import find_pg_dump, run_pg_dump, without_meta_commands
    from pgshift.state import history

    pg_dump = find_pg_dump(conn.server_version // 10000, settings.pg_dump, purpose="dump")
    text = run_pg_dump(pg_dump, settings.url, "--schema-only", "--no-owner", "--no-privileges",
                       f'--exclude-schema="{settings.schema}"', purpose="dump")
    text = _VARYING.sub("", without_meta_commands(text))
    text = re.sub(r"\n{3,}", "\n\n", text).strip("\n") + "\n"
    applied = [e for e in history.read(conn, settings.schema) if e.status == "applied"]
    return text + _applied_section(applied)


def _applied_section(applied: list[HistoryEntry]) -> str:
    from pgshift.migrations.model import Version
    from pgshift.plan import ORDERED_KINDS

    versioned = sorted((e for e in applied if e.kind in ORDERED_KINDS),
                       key=lambda e: Version.parse(e.version or "").key)
    repeatable = sorted((e for e in applied if e.kind == "repeatable"), key=lambda e: e.script)
    lines = ["", "--", "-- Applied migrations (pgshift's history)."]
    if versioned:
        lines.append(f"-- A database made from this file adopts them with 'pgshift baseline "
                     f"--version {versioned[-1].version}'.")
    lines.append("--")
    lines += [f"-- {e.script}" for e in (*versioned, *repeatable)]
    return "\n".join(lines) + "\n"
