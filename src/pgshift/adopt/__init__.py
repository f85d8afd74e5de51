"""Adopt a database another tool migrated: record the same applied set in pgshift's history.

``adopt(settings, "flyway")`` reads that tool's history table (see ``adopt.sources``), matches
every migration it applied to a file of the migrations directory (read in the tool's flavor
unless ``flavor`` is configured), checks Flyway's CRC32 checksums where Flyway kept them, and
then, in one transaction under pgshift's lock, writes one ``applied`` history row per
migration. Nothing else changes: the other tool's table stays as it was, no migration runs.
Anything that does not match (a missing file, a changed checksum, a failed or dirty migration)
refuses the whole adoption with a DriftError that lists it.

Called, the package is the library's verb ``pgshift.adopt`` (see ``pgshift.verb_packages``).
"""

from __future__ import annotations

import re
import zlib
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from pgshift.adopt.sources import TOOLS, Applied, ForeignHistory, check_tool, read_history
from pgshift.errors import DriftError
from pgshift.verb_packages import callable_as

if TYPE_CHECKING:
    from psycopg2.extensions import connection as Connection

    from pgshift.config import Settings
    from pgshift.migrations.model import Migration

callable_as(__name__, "pgshift.api:adopt")

_LINE_BREAKS = re.compile(r"[\r\n]")


@dataclass(frozen=True)
class AdoptResult:
    """What ``adopt`` recorded (or, with ``dry_run``, would record)."""

    tool: str
    table: str
    flavor: str
    recorded: list[Migration] = field(default_factory=list)
    already: list[Migration] = field(default_factory=list)
    stale: list[Migration] = field(default_factory=list)  # repeatables changed since: up reruns
    pending: list[Migration] = field(default_factory=list)  # never applied by the other tool
    # Adopted before, and no longer applied as the tool says now (Flyway's undo): their rows go.
    withdrawn: list[Migration] = field(default_factory=list)
    dry_run: bool = False
    detected_flavor: str = "pgshift"  # what pgshift sees in the directory without 'flavor'

    @property
    def out_of_order(self) -> list[Migration]:
        """Pending versions below the newest applied one (the tool skipped them, or ran them
        out of order, as dbmate does): 'pgshift up' refuses them without --out-of-order."""
        top = max((m.version for m in [*self.recorded, *self.already]
                   if m.kind == "versioned" and m.version is not None), default=None)
        return [m for m in self.pending if top is not None and m.kind == "versioned"
                and m.version is not None and m.version < top]


def flyway_checksum(raw: bytes) -> int:
    """Flyway's checksum of a file: CRC32 of its lines' UTF-8 bytes, line breaks and BOM left
    out, as a signed 32-bit integer (so line endings do not count)."""
    text = raw.decode("utf-8", "replace").removeprefix("\ufeff")
    value = zlib.crc32(_LINE_BREAKS.sub("", text).encode("utf-8"))
    return value - (1 << 32) if value >= 1 << 31 else value


def adopt(settings: Settings, tool: str, *, table: str | None = None,
          dry_run: bool = False) -> AdoptResult:
    """Record in pgshift's history what ``tool`` applied to ``settings.url``'s database."""
    from pgshift.db import connect
    from pgshift.migrations.discover import discover_migrations
    from pgshift.state.lock import advisory_lock

    flavor = settings.flavor or check_tool(tool)  # each tool's name is also its files' flavor
    migrations = discover_migrations(settings.dir, flavor=flavor,
                                     placeholders=settings.placeholders)
    conn = connect(settings)
    try:
        if dry_run:
            return _plan(conn, settings, tool, table, flavor, migrations, dry_run)[0]
        # Both histories are read under the lock, so that what is recorded (and withdrawn) is
        # what they say when it is written, not before another runner's 'up' or 'down'.
        lock_conn = connect(settings, application_name=f"{settings.application_name} lock")
        try:
            with advisory_lock(lock_conn, settings.lock_key, wait=settings.lock_wait):
                result, chosen = _plan(conn, settings, tool, table, flavor, migrations, dry_run)
                if result.recorded or result.withdrawn:
                    _record(conn, settings, result, chosen)
                return result
        finally:
            lock_conn.close()
    finally:
        conn.close()


def _plan(conn: Connection, settings: Settings, tool: str, table: str | None, flavor: str,
          migrations: list[Migration], dry_run: bool
          ) -> tuple[AdoptResult, dict[str, tuple[Migration, Applied | None]]]:
    """What adopting records now, and the tool's row for each migration it applied."""
    from pgshift.callbacks import is_callback
    from pgshift.migrations.discover import _read
    from pgshift.migrations.flavors import detect_flavor
    from pgshift.state import history

    foreign = read_history(conn, tool, table)
    chosen, stale = _match(foreign, migrations)
    known = {e.key: e for e in history.read(conn, settings.schema)}
    # What pgshift took back itself since (down, repair): the tool's table, which pgshift
    # never writes, still says applied; re-recording it would skip it on the next 'up'.
    taken_back = _taken_back(conn, settings.schema, [
        history.key_of(m) for m, _ in chosen.values() if not _applied(known, m)])
    chosen = {name: pair for name, pair in chosen.items()
              if history.key_of(pair[0]) not in taken_back}
    already = [m for m, _ in chosen.values() if _applied(known, m)]
    todo = [m for m, _ in chosen.values() if not _applied(known, m)]
    # Rows an earlier adopt copied whose migration the tool has undone since. Rows of what
    # pgshift applied itself are its own, whatever the tool says.
    withdrawn = [m for m in migrations if m.name not in chosen and _applied(known, m)
                 and known[history.key_of(m)].error == f"adopted from {tool}"]
    # Never a baseline (the database has migrations), nor what the one it was built from
    # holds (see pgshift.plan).
    base = max((m.version for m, _ in chosen.values()
                if m.kind == "baseline" and m.version is not None), default=None)
    pending = [m for m in migrations if m.name not in chosen and m.kind != "baseline"
               and not (base is not None and m.version is not None and m.version <= base)]
    return AdoptResult(tool, foreign.table, flavor, todo, already,
                       [m for m in stale if m in todo], pending, withdrawn, dry_run,
                       detect_flavor(settings.dir, _read, is_callback)), chosen


def _match(foreign: ForeignHistory, migrations: list[Migration]
           ) -> tuple[dict[str, tuple[Migration, Applied | None]], list[Migration]]:
    """File name -> (migration, the row saying it is applied) for each migration ``foreign``
    applied (in file order), and the repeatables among them changed since."""
    by_version = {m.version: m for m in migrations if m.kind == "versioned"}
    by_baseline = {m.version: m for m in migrations if m.kind == "baseline"}
    by_name = {m.path.stem: m for m in migrations}
    by_script = {m.name: m for m in migrations if m.kind == "repeatable"}
    found: dict[str, tuple[Migration, Applied | None]] = {}
    missing, changed, stale = [], [], []
    for applied in foreign.applied:
        migration = _find(applied, foreign.tool,
                          by_baseline if applied.baseline else by_version, by_name, by_script)
        if migration is None:
            missing.append(applied.label)
            continue
        if applied.checksum is not None and flyway_checksum(
                migration.path.read_bytes()) != applied.checksum:
            if migration.kind == "repeatable":
                stale.append(migration)
            else:
                changed.append(f"{applied.label} ({migration.name})")
        found[migration.name] = (migration, applied)
    if foreign.upto is not None:  # a baseline: the tool skips every version up to it
        for version, migration in by_version.items():
            if version <= foreign.upto:
                found.setdefault(migration.name, (migration, None))
    _refuse(foreign, missing, changed)
    return {m.name: found[m.name] for m in migrations if m.name in found}, stale


def _find(applied: Applied, tool: str, by_version: dict, by_name: dict,
          by_script: dict) -> Migration | None:
    if tool == "node-pg-migrate":
        return by_name.get(applied.name or "")
    if applied.version is None:  # Flyway records a file in a subfolder of a location by its
        # path there ('views/R__users.sql'); pgshift knows files by name, wherever they are
        return by_script.get((applied.name or "").replace("\\", "/").rsplit("/", 1)[-1])
    migration = by_version.get(applied.version)
    if tool == "dbmate" and migration is not None and migration.version.text != applied.label:
        return None  # dbmate knows a file by its version as written: '0042' is not '42'
    return migration


def _refuse(foreign: ForeignHistory, missing: list[str], changed: list[str]) -> None:
    def listed(items: list[str]) -> str:
        more = f" and {len(items) - 5} more" if len(items) > 5 else ""
        return ", ".join(items[:5]) + more

    if missing:
        raise DriftError(
            f"{foreign.tool} applied {len(missing)} migration(s) whose file is not in the "
            f"migrations directory: {listed(missing)}",
            hint="point --dir at the directory the tool used, or restore the files")
    if changed:
        raise DriftError(
            f"{len(changed)} file(s) changed since Flyway applied them (checksum): "
            f"{listed(changed)}",
            hint="restore the applied version of each file (or 'flyway repair' if the change "
                 "is intended), then adopt")


def _taken_back(conn: Connection, schema: str, keys: list[str]) -> set[str]:
    """Those of ``keys`` (of migrations without an applied row) that a run of pgshift's own,
    not an adopt, touched last: pgshift rolled them back or dropped their row since."""
    from psycopg2 import sql

    from pgshift.state.history import table

    if not keys:
        return set()
    with conn.cursor() as cur:
        cur.execute("SELECT to_regclass(%s) IS NOT NULL", (f'"{schema}".runs',))
        if not cur.fetchone()[0]:
            return set()
        cur.execute(sql.SQL("SELECT DISTINCT ON (k) k, r.command FROM {} r, unnest(r.keys) k "
                            "WHERE k = ANY(%s) ORDER BY k, r.id DESC").format(
                                table(schema, "runs")), (keys,))
        return {key for key, command in cur.fetchall() if not command.startswith("adopt ")}


def _applied(known: dict, migration: Migration) -> bool:
    from pgshift.state.history import key_of

    entry = known.get(key_of(migration))
    return entry is not None and entry.status == "applied"


def _record(conn: Connection, settings: Settings, result: AdoptResult,
            chosen: dict[str, tuple[Migration, Applied | None]]) -> None:
    """Write ``result`` into pgshift's history in one transaction (the caller holds the lock)."""
    from pgshift.state import history, runs, upgrades

    schema, tool = settings.schema, result.tool
    upgrades.install(conn, schema)
    with runs.recording(conn, schema, f"adopt --from {tool}") as run, conn.cursor() as cur:
        cur.execute("BEGIN")
        for migration in result.withdrawn:
            cur.execute(history.delete_sql(schema, history.key_of(migration)))
        for migration in result.recorded:
            cur.execute(history.upsert_sql(schema, migration, "applied", duration_sql="NULL",
                                           error=f"adopted from {tool}"))
            if migration in result.stale:  # a changed repeatable: 'up' re-applies it
                cur.execute(history.set_checksum_sql(schema, history.key_of(migration),
                                                     "stale"))
            row = chosen[migration.name][1]
            if row is not None and row.applied_at is not None:  # keep the tool's time
                cur.execute(_applied_at_sql(schema), (row.applied_at, history.key_of(migration)))
        cur.execute("COMMIT")
        for migration in result.recorded:
            run.done(migration)


def _applied_at_sql(schema: str) -> object:
    from psycopg2 import sql

    from pgshift.state.history import table

    return sql.SQL("UPDATE {} SET applied_at = %s WHERE key = %s").format(table(schema))


__all__ = ["TOOLS", "AdoptResult", "adopt", "flyway_checksum"]
