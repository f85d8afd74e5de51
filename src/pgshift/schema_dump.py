"""``pgshift dump``: the database's schema as SQL, for review in version control.

Like dbmate's ``schema.sql``: ``pg_dump --schema-only`` without owners, privileges and
pgshift's own schema, and without the lines that differ from one machine or run to the next
(pg_dump's versions, ``\\restrict`` keys, the ``transaction_timeout`` that only pg_dump 17
and later set, for a server before 17), so that the file changes only when the schema does.
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
# pg_dump 17 and later also set transaction_timeout, which a server before 17 refuses: the same
# schema of such a server would read differently with another pg_dump.
_VARYING_SET = re.compile(r"SET transaction_timeout = 0")


def dump_schema(conn: Connection, settings: Settings) -> str:
    """The schema of the database ``conn`` is on, as SQL, then its applied migrations."""
    from pgshift.errors import InputError
    from pgshift.pgdump import find_pg_dump, run_pg_dump, tidy, without_meta_commands
    from pgshift.state import history

    pg_dump = find_pg_dump(conn.server_version // 10000, settings.pg_dump, purpose="dump")
    text = run_pg_dump(pg_dump, settings.url, "--schema-only", "--no-owner", "--no-privileges",
                       f'--exclude-schema="{settings.schema}"', purpose="dump")
    before_17 = conn.server_version < 170000  # from 17 on, every pg_dump that can sets it
    text = without_meta_commands(text)
    try:
        text = tidy(text, gap=lambda between: _VARYING.sub("", between),
                    statement=lambda sql: "" if before_17 and _VARYING_SET.fullmatch(sql)
                    else sql)
    except InputError:  # syntax newer than pgshift's parser: pg_dump's blank lines stay
        text = _VARYING.sub("", text).strip("\n") + "\n"
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
