"""One verify run: scratch database, replay, then every pending migration's checks.

Each pending migration gets its round trip on the scratch database (``round_trips``): up, down
and up again, each state's schema compared, the application's queries prepared before the first
up and checked after it (``compat``), with their plans compared when there is sample data. The
last snapshot of one migration is the first of the next (nothing between them changes the
schema), so N migrations take 3N + 1 snapshots. Pending migrations are linted first.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from pgshift.budget import Limits
from pgshift.errors import DatabaseConnectionError, DriftError, InputError
from pgshift.verify.replay import replay as replay  # squash's, from here as before
from pgshift.verify.replay import replay_applied as replay_applied  # schema drift's
from pgshift.verify.report import MigrationCheck, VerifyReport

if TYPE_CHECKING:
    from psycopg2.extensions import connection as Connection

    from pgshift.config import Settings
    from pgshift.migrations.model import Migration
    from pgshift.plan import Plan
    from pgshift.verify.queries import Query

Progress = Callable[[str], None]


@dataclass(frozen=True)
class VerifyOptions:
    """How to verify. Paths and URLs are the user's; nothing here is read from the environment.

    ``scratch_url`` names an existing empty database to use instead of creating one (it is not
    dropped); ``embedded`` creates the scratch database on a throwaway server instead of the
    configured one; ``source_url`` (``--from``) starts from a schema-only copy of that database.
    """

    embedded: bool = False
    source_url: str | None = None
    scratch_url: str | None = None
    queries_file: Path | None = None
    queries_from_stats: str | None = None
    stats_limit: int = 50
    with_data: bool = False
    data_script: Path | None = None
    rows: int = 10_000
    cost_threshold: float = 0.5


def run_verify(settings: Settings, options: VerifyOptions,
               progress: Progress | None = None) -> VerifyReport:
    """Verify the pending migrations of ``settings.dir`` against the target's current version."""
    from pgshift.migrations.discover import discover_migrations
    from pgshift.plan import build_plan

    say = progress or (lambda _text: None)
    if options.with_data and options.rows < 1:
        raise InputError(f"rows per table must be at least 1 (got {options.rows}): plans are "
                         "compared on tables that hold rows")
    migrations = discover_migrations(settings.dir, flavor=settings.flavor,
                                     placeholders=settings.placeholders)
    queries, query_notes = _load_queries(settings, options)
    has_target = bool(settings.url) or not (options.embedded or options.scratch_url)
    target_plan = None
    if options.source_url is None:
        entries = _target_history(settings) if has_target else []
        target_plan = build_plan(migrations, entries)
        _refuse_drift(target_plan)
    with _scratch(settings, options) as (scratch_url, where):
        from pgshift.db import connect

        conn = connect(settings, url=scratch_url, application_name="pgshift verify")
        app = connect(settings, url=scratch_url, application_name="pgshift verify app")
        try:
            report = VerifyReport(scratch=where, queries=len(queries), notes=query_notes)
            if target_plan is not None:  # before the replay: it takes a while
                _refuse_server_wide(conn, target_plan)
            plan = _prepare(settings, options, (conn, scratch_url), migrations, target_plan,
                            report, say)
            if target_plan is None:  # --from: which are pending is known after the copy
                _refuse_server_wide(conn, plan)
            _check_pending(settings, options, conn, app, plan, queries, report, say)
            return report
        finally:
            app.close()
            conn.close()


# -- setting up the scratch database --------------------------------------------------------------


@contextmanager
def _scratch(settings: Settings, options: VerifyOptions) -> Iterator[tuple[str, str]]:
    """The scratch database's URL and a description of where it is; dropped afterwards."""
    from pgshift.db import describe
    from pgshift.verify.scratch import ScratchDatabase

    if options.scratch_url:
        yield options.scratch_url, describe(options.scratch_url)
        return
    with ScratchDatabase(settings, embedded=options.embedded,
                         prefer_major=target_major(settings, options)) as database:
        yield database.url, database.describe()


def target_major(settings: Settings, options: VerifyOptions) -> int | None:
    """The major version a throwaway server must have to replay like the target (None: any,
    or the scratch database is on the target's own server)."""
    if settings.pg_version:
        return settings.pg_version
    url = options.source_url or settings.url
    if not url or not options.embedded:
        return None
    conn = _connect(settings, url, "--from" if options.source_url else None)
    try:
        return int(conn.server_version) // 10000
    finally:
        conn.close()


# db.connect's hint when nothing more precise fits: about the target's URL.
_TARGET_URL_HINT = "check --url / PGSHIFT_URL / DATABASE_URL (or the PG* variables)"


def _connect(settings: Settings, url: str, option: str | None) -> Connection:
    """A connection to ``url``; when ``option`` (like "--from") gave it, a failure names it
    instead of the target's --url."""
    from pgshift.db import connect

    try:
        return connect(settings, url=url, application_name="pgshift verify")
    except DatabaseConnectionError as exc:
        if option is None:
            raise
        hint = (exc.hint or "").replace(_TARGET_URL_HINT, f"check the {option} URL")
        raise DatabaseConnectionError(f"{option}: {exc.message}", hint=hint or None) from None


def _target_history(settings: Settings) -> list:
    from pgshift.db import connect
    from pgshift.state import history

    conn = connect(settings)
    try:
        return history.read(conn, settings.schema)
    finally:
        conn.close()


def _refuse_server_wide(conn: Connection, plan: Plan) -> None:
    """What the round trips of ``plan``'s pending migrations would change on the configured
    server beyond the scratch database (``replay`` checks what it replays itself)."""
    from pgshift.verify.server_wide import refuse_server_wide

    refuse_server_wide(conn, plan.pending(), down=True)


def _refuse_drift(plan: Plan, *, source: bool = False) -> None:
    """``source``: the history is the --from database's, not the target's."""
    what, hint = (("the --from database", "see 'pgshift validate' with --url set to the "
                   "--from database") if source else ("target", "see 'pgshift validate'"))
    for item in plan.drift():
        raise DriftError(f"{what} has drifted: {item.state}: {item.detail}",
                         path=item.migration.path if item.migration else None,
                         migration=item.script, hint=hint)


def _load_queries(settings: Settings, options: VerifyOptions) -> tuple[list[Query], list[str]]:
    """The application's queries, and notes on sources that gave none (nothing was checked)."""
    from pgshift.verify.queries import queries_from_stats, read_queries

    queries: list[Query] = []
    notes: list[str] = []
    if options.queries_file is not None:
        queries += read_queries(options.queries_file)
        if not queries:
            notes.append(f"{options.queries_file.name} holds no statement: no application "
                         "query was checked")
    if options.queries_from_stats:
        found = queries_from_stats(options.queries_from_stats, limit=options.stats_limit,
                                   own_schema=settings.schema)
        if not found:
            notes.append("pg_stat_statements holds no application query of that database: "
                         "none was checked")
        queries += found
    return queries, notes


def _prepare(settings: Settings, options: VerifyOptions, scratch: tuple[Connection, str],
             migrations: Sequence[Migration], target_plan: Plan | None, report: VerifyReport,
             say: Progress) -> Plan:
    """Bring the scratch database to the target's version and load sample data; its plan."""
    from pgshift.plan import build_plan
    from pgshift.state import history, upgrades

    conn, scratch_url = scratch
    if options.source_url is not None:
        from pgshift.db import describe
        from pgshift.verify.scratch import copy_schema

        say("Copying the schema of the --from database ...")
        copy_schema(options.source_url, scratch_url, history_schema=settings.schema,
                    privileges=not options.embedded, configured=settings.pg_dump)
        upgrades.install(conn, settings.schema)
        target_plan = build_plan(migrations, history.read(conn, settings.schema))
        _refuse_drift(target_plan, source=True)
        report.replayed = [i.script for i in target_plan.applied()]
        report.copied_from = describe(options.source_url)
    else:
        assert target_plan is not None
        report.replayed = replay_applied(conn, settings, target_plan, say)
    if options.with_data and options.data_script is not None:
        from pgshift.verify.data import load_script

        say(f"Loading sample data from {options.data_script} ...")
        load_script(conn, options.data_script)
    return target_plan


# -- checking each pending migration --------------------------------------------------------------


def _check_pending(settings: Settings, options: VerifyOptions, conn: Connection,
                   app: Connection, plan: Plan, queries: Sequence[Query], report: VerifyReport,
                   say: Progress) -> None:
    from pgshift.runner import Runner
    from pgshift.verify.compat import QueryProbe
    from pgshift.verify.lint import lint_pending
    from pgshift.verify.round_trips import Checks, round_trip

    pending = plan.pending()
    prior = [i.migration for i in plan.applied() if i.migration is not None]
    lint_findings, lint_notes = lint_pending(settings, conn, pending, prior)
    report.notes += lint_notes
    probe = QueryProbe(app, queries, plans=options.with_data,
                       cost_threshold=options.cost_threshold) if queries else None
    checks = Checks(settings, conn, Runner(conn, settings), probe,
                    dropped=not options.scratch_url)
    for index, migration in enumerate(pending):
        budget = Limits.of(migration, settings).budget  # inf: none
        check = MigrationCheck(migration.label, migration.name, migration.description, budget,
                               path=str(migration.path))
        check.findings += lint_findings.get(migration.path, [])
        report.migrations.append(check)
        if options.with_data and options.data_script is None:
            _fill_tables(settings, options, conn, report)  # rows only: the schema stays
        say(f"Checking {migration.label} {migration.description} ...")
        if not round_trip(checks, migration, check):
            rest = [m.label for m in pending[index + 1:]]
            if rest:
                report.notes.append(f"not checked after {migration.label} failed: "
                                    f"{', '.join(rest)}")
            break
    if probe is not None:
        report.notes += probe.notes


def _fill_tables(settings: Settings, options: VerifyOptions, conn: Connection,
                 report: VerifyReport) -> None:
    """Generated rows for every table still empty (those the last migration created)."""
    from pgshift.verify.data import generate_rows

    for note in generate_rows(conn, rows=options.rows, skip_schemas=[settings.schema]):
        if note not in report.notes:
            report.notes.append(note)
