"""Prepared transactions (``PREPARE TRANSACTION``) that block sessions here.

A prepared transaction keeps its locks with no session behind it: nothing to cancel or
terminate, and it never ends by itself. ``pg_blocking_pids`` names it pid 0 (``pg_locks`` gives
its locks no pid). ``ps`` shows the prepared transactions of the database as one session with
pid 0 and role ``prepared``, so the waits on them have a blocker to point at;
``COMMIT PREPARED`` or ``ROLLBACK PREPARED`` with its name is what frees the locks.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from psycopg2.extensions import connection as Connection

PID = 0  # how pg_blocking_pids names a prepared transaction
ROLE = "prepared"

_PREPARED = """
SELECT gid, owner, prepared, extract(epoch FROM now() - prepared)::float8
FROM pg_prepared_xacts WHERE database = current_database()
ORDER BY prepared, gid
"""


@dataclass(frozen=True)
class Prepared:
    """One prepared transaction of the current database."""

    gid: str
    owner: str
    prepared: datetime
    age_s: float


def read_prepared(conn: Connection) -> list[Prepared]:
    with conn.cursor() as cur:
        cur.execute(_PREPARED)
        return [Prepared(*row) for row in cur.fetchall()]


def session_fields(prepared: list[Prepared]) -> dict[str, Any]:
    """The fields of the ``Session`` that stands for them all (pid 0), the oldest's times;
    its query: the statements that made them, which name each for COMMIT/ROLLBACK PREPARED."""
    oldest = prepared[0] if prepared else None
    age = oldest.age_s if oldest else None
    return {
        "pid": PID, "user": ", ".join(sorted({p.owner for p in prepared})) or None,
        "application_name": "", "client": "-", "backend_type": "prepared transaction",
        "state": "prepared", "wait_event_type": None, "wait_event": None,
        "query": ";\n".join(f"PREPARE TRANSACTION {literal(p.gid)}" for p in prepared),
        "command": None, "xact_age_s": age, "query_age_s": age, "state_age_s": age,
        "query_start": oldest.prepared if oldest else None, "role": ROLE,
    }


def describe(prepared: list[Prepared]) -> str:
    names = ", ".join(literal(p.gid) for p in prepared) or "?"
    return f"prepared transaction{'s' if len(prepared) > 1 else ''} {names}"


def literal(text: str) -> str:
    return "'" + text.replace("'", "''") + "'"
