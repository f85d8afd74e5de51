"""Proving a ``squash`` baseline: the migrations and the baseline replayed on scratch databases
as ``up`` runs them (with the beforeEachMigrate / afterEachMigrate callbacks around each file),
and the two databases compared (schema, each table's row count and values)."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING

from pgshift.errors import CheckFailedError, InputError

if TYPE_CHECKING:
    from psycopg2.extensions import connection as Connection

    from pgshift.callbacks import Callbacks
    from pgshift.config import Settings
    from pgshift.verify.scratch import ScratchDatabase

Progress = Callable[[str], None]
EACH = ("beforeEachMigrate", "afterEachMigrate")

_TABLES = """
    SELECT n.nspname, c.relname FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
    WHERE c.relkind = 'r' AND n.nspname <> ALL(%(skip)s)
      AND n.nspname NOT IN ('pg_catalog', 'information_schema')
    ORDER BY 1, 2
"""


def each_callbacks(settings: Settings) -> Callbacks | None:
    """The callbacks 'up' runs inside each migration's transaction (a new database runs them
    around the baseline too), None without any. The whole-run ones (beforeMigrate...) run
    around a baseline as around the migrations: the replay leaves them out."""
    from pgshift.callbacks import Callbacks, load_callbacks
    from pgshift.placeholders import PATTERN

    each = tuple(c for c in load_callbacks(settings.dir, settings.placeholders).files
                 if c.event in EACH)
    for callback in each:
        text = callback.path.read_text(encoding="utf-8", errors="replace")
        found = PATTERN.search(text)
        if found is not None:
            raise InputError(
                f"uses the placeholder {found[0]}: a baseline would hold this machine's value",
                path=callback.path, line=text.count("\n", 0, found.start()) + 1,
                hint="this callback runs inside every migration squash replays")
    return Callbacks(each) if each else None


def prove(settings: Settings, scratch: ScratchDatabase, built: Connection, path: Path,
          text: str, callbacks: Callbacks | None) -> dict[str, int]:
    """Run ``text`` as the baseline on a second scratch database beside ``built``: the schema,
    each table's row count and its rows' values must be the same. The tables and their
    counts."""
    import tempfile

    from pgshift.db import connect
    from pgshift.migrations.discover import discover_migrations
    from pgshift.verify.replay import replay
    from pgshift.verify.snapshot import diff_snapshots, take_snapshot

    skip = [settings.schema]
    expected, counts = take_snapshot(built, exclude_schemas=skip), _row_counts(built, skip)
    with tempfile.TemporaryDirectory(prefix="pgshift-squash-") as folder:
        try:
            Path(folder, path.name).write_text(text, encoding="utf-8")
        except OSError as exc:
            raise InputError(f"cannot write the baseline to prove it: {exc.strerror}",
                             path=Path(folder), hint="nothing was written; TMPDIR picks "
                             "another folder for it") from None
        baseline = discover_migrations(Path(folder))[0]
        with scratch.sibling() as url:
            conn = connect(settings, url=url,
                           application_name=f"{settings.application_name} squash")
            try:
                replay(conn, settings, [baseline], lambda _text: None, what="the baseline",
                       callbacks=callbacks)
                actual, rows = take_snapshot(conn, exclude_schemas=skip), _row_counts(conn, skip)
            finally:
                conn.close()
    differences = diff_snapshots(expected, actual, expected_name="after the migrations",
                                 actual_name=f"after {path.name}")
    for table, (count, digest) in counts.items():
        if rows.get(table, (0, None))[0] != count:
            differences.append(f"table {table}: {count} row(s) after the migrations, "
                               f"{rows.get(table, (0, None))[0]} after {path.name}")
        elif rows[table][1] != digest:
            differences.append(f"table {table}: its rows' values differ after {path.name}")
    if differences:
        shown = "; ".join(differences[:3]) + (
            f"; and {len(differences) - 3} more" if len(differences) > 3 else "")
        raise CheckFailedError(
            f"the baseline would not build the same database: {shown}", path=path,
            hint="nothing was written; " + (
                "the beforeEachMigrate / afterEachMigrate callbacks, which run around the "
                "baseline too, make a difference" if callbacks is not None else
                "please report this with the migrations' SQL"))
    return {table: count for table, (count, _) in counts.items()}


def _row_counts(conn: Connection, skip: list[str]) -> dict[str, tuple[int, str]]:
    """Every table's row count and a digest of its rows' values (in two round trips: no
    server-side XML needed)."""
    from psycopg2 import sql

    with conn.cursor() as cur:
        cur.execute(_TABLES, {"skip": skip})
        tables = cur.fetchall()
        if not tables:
            return {}
        cur.execute(sql.SQL(" UNION ALL ").join(
            sql.SQL("SELECT {}, count(*), md5(coalesce(string_agg(r::text, E'\\n' "
                    "ORDER BY r::text), '')) FROM {} r").format(
                sql.Literal(f"{schema}.{name}"), sql.Identifier(schema, name))
            for schema, name in tables))
        return {table: (count, digest) for table, count, digest in cur.fetchall()}
