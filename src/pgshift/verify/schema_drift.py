"""Schema drift: the database's schema against what its applied migrations make.

Checksums catch a migration file edited after it ran; they cannot catch the index made by hand
during an incident, the column altered from a console, the function hot-fixed in production.
``validate --schema-drift`` replays the applied migrations on a scratch database (on the target's
server, or with ``embedded`` on a throwaway one of the same major version), takes a catalog
snapshot of both (``pgshift.verify.snapshot``, pgshift's own schema left out) and lists every
difference, as Flyway's drift report does. A column that is only in another position is a
note, not drift: a column added back by a down part can only go last.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from pgshift.config import Settings
    from pgshift.plan import Plan
    from pgshift.verify.snapshot import Snapshot

IN_DATABASE = "in the database"
FROM_MIGRATIONS = "after the migrations"


@dataclass(frozen=True)
class SchemaDrift:
    """What ``validate --schema-drift`` found: one line per difference (empty: no drift), the
    column-order notes, the migrations replayed, and where."""

    differences: list[str] = field(default_factory=list)
    order_notes: list[str] = field(default_factory=list)
    replayed: list[str] = field(default_factory=list)
    scratch: str = ""
    # The two catalogs compared: after the migrations, and in the database.
    expected: Snapshot = field(default_factory=dict, repr=False)
    actual: Snapshot = field(default_factory=dict, repr=False)
    major: int | None = None  # the database's server: which statements a fix may use

    @property
    def ok(self) -> bool:
        return not self.differences


def find_schema_drift(settings: Settings, plan: Plan, *, embedded: bool = False,
                      progress: Callable[[str], None] | None = None) -> SchemaDrift:
    """Compare the target's schema with ``plan``'s applied migrations replayed on a scratch
    database. ``plan`` must be the target's, read from every file (``api.validate``'s)."""
    from pgshift.db import connect
    from pgshift.verify.scratch import ScratchDatabase
    from pgshift.verify.session import VerifyOptions, replay_applied, target_major
    from pgshift.verify.snapshot import diff_apart_from_order, take_snapshot

    say = progress or (lambda _text: None)
    skip = [settings.schema]
    target = connect(settings, application_name=f"{settings.application_name} validate")
    try:
        actual = take_snapshot(target, exclude_schemas=skip, history_schema=settings.schema)
        server = int(target.server_version) // 10000
    finally:
        target.close()
    major = target_major(settings, VerifyOptions(embedded=embedded))
    with ScratchDatabase(settings, embedded=embedded, prefer_major=major) as scratch:
        conn = connect(settings, url=scratch.url,
                       application_name=f"{settings.application_name} validate")
        try:
            replayed = replay_applied(conn, settings, plan, say)
            expected = take_snapshot(conn, exclude_schemas=skip)
        finally:
            conn.close()
        where = scratch.describe()
    differences, order = diff_apart_from_order(expected, actual, expected_name=FROM_MIGRATIONS,
                                               actual_name=IN_DATABASE)
    return SchemaDrift(differences, order, replayed, where, expected, actual, server)
