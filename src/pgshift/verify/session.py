"""One verify run: scratch database, replay, then every pending migration's checks.

For each pending migration, on the scratch database: snapshot, up (timed against its budget),
snapshot, down, snapshot (must equal the first), up again, snapshot (must equal the second).
The last snapshot of one migration is the first of the next (nothing between them changes the
schema), so N migrations take 3N + 1 snapshots.
A repeatable migration has no down: it is applied a second time over what it made, as when its
file changes, and must succeed and give the same schema.
Around the first up, the application's queries are prepared before and checked after
(``compat``), with their plans compared when there is sample data. Pending migrations are
linted first. Up and down run through the real ``Runner``.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Literal

from pgshift.budget import Limits
from pgshift.errors import (
    DatabaseConnectionError,
    DriftError,
    InputError,
    MigrationFailedError,
    MigrationTimeoutError,
)
from pgshift.verify.replay import replay as replay  # squash's, from here as before
from pgshift.verify.replay import replay_applied as replay_applied  # schema drift's
from pgshift.verify.replay import replay_hint, without_resume
from pgshift.verify.report import Finding, MigrationCheck, VerifyReport

if TYPE_CHECKING:
    from psycopg2.extensions import connection as Connection

    from pgshift.config import Settings
    from pgshift.migrations.model import Migration
    from pgshift.plan import Plan
    from pgshift.runner import Runner
    from pgshift.verify.compat import QueryProbe
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


@dataclass
class _Checks:
    """What each migration's checks run with on the scratch database, and its schema as last
    seen: the snapshot that ended one migration's checks is the next one's "before"."""

    settings: Settings
    conn: Connection
    runner: Runner
    probe: QueryProbe | None
    dropped: bool  # the scratch database goes away after verify (not a --scratch-url one)
    schema: dict | None = None

    def snap(self) -> dict:
        """A snapshot of the scratch database, which is now its schema as last seen."""
        from pgshift.verify.snapshot import take_snapshot

        self.schema = take_snapshot(self.conn, exclude_schemas=[self.settings.schema])
        return self.schema

    def current(self) -> dict:
        """The schema now: as last seen, when every step since ended where it was seen."""
        return self.schema if self.schema is not None else self.snap()


def _check_pending(settings: Settings, options: VerifyOptions, conn: Connection,
                   app: Connection, plan: Plan, queries: Sequence[Query], report: VerifyReport,
                   say: Progress) -> None:
    from pgshift.runner import Runner
    from pgshift.verify.compat import QueryProbe
    from pgshift.verify.lint import lint_pending

    pending = plan.pending()
    prior = [i.migration for i in plan.applied() if i.migration is not None]
    lint_findings, lint_notes = lint_pending(settings, conn, pending, prior)
    report.notes += lint_notes
    probe = QueryProbe(app, queries, plans=options.with_data,
                       cost_threshold=options.cost_threshold) if queries else None
    checks = _Checks(settings, conn, Runner(conn, settings), probe,
                     dropped=not options.scratch_url)
    for index, migration in enumerate(pending):
        budget = Limits.of(migration, settings).budget  # inf: none
        check = MigrationCheck(migration.label, migration.name, migration.description, budget)
        check.findings += lint_findings.get(migration.path, [])
        report.migrations.append(check)
        if options.with_data and options.data_script is None:
            _fill_tables(settings, options, conn, report)  # rows only: the schema stays
        say(f"Checking {migration.label} {migration.description} ...")
        if not _round_trip(checks, migration, check):
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


def _round_trip(checks: _Checks, migration: Migration, check: MigrationCheck) -> bool:
    """The checks of one migration; False when the scratch database cannot go on from here.
    When it can, ``checks.schema`` is the scratch database's schema as it is left."""
    from pgshift.verify.snapshot import diff_apart_from_order, diff_snapshots

    before = checks.current()
    if checks.probe is not None:
        checks.probe.before()
    outcome = _run(checks, migration, "up", check)
    if outcome is None:
        return False
    check.up_ms = outcome
    if outcome > check.budget_s * 1000:
        check.findings.append(Finding("budget", f"took {outcome / 1000:.1f}s, over its "
                                      f"{check.budget_s:g}s budget"))
    after = checks.snap()
    if checks.probe is not None:
        check.findings += checks.probe.after()
    if migration.kind == "repeatable":
        return _apply_again(checks, migration, check, after)
    if migration.directives.irreversible or migration.down_sql is None:
        kind = "irreversible" if migration.directives.irreversible else "roundtrip"
        text = "marked irreversible: round trip not checked" if kind == "irreversible" \
            else "has no down part (add '-- pgshift:down' or mark it '-- pgshift:irreversible')"
        check.findings.append(Finding(kind, text))  # type: ignore[arg-type]
        return True
    check.down_ms = _run(checks, migration, "down", check)
    if check.down_ms is None:
        return migration.transactional_in("down")  # rolled back: still at "after"
    lines, order = diff_apart_from_order(before, checks.snap(), expected_name="before up",
                                         actual_name="after down")
    if lines:
        check.findings.append(Finding("roundtrip", "down does not restore the schema from "
                                      "before up", tuple(lines)))
    if order:
        check.findings.append(Finding("column-order", "down adds columns back last: PostgreSQL "
                                      "cannot put a column where it was (SELECT * and INSERT "
                                      "without a column list see the new order)", tuple(order)))
    if _run(checks, migration, "up", check, again=True) is None:
        return False
    lines = diff_snapshots(after, checks.snap(), expected_name="after the first up",
                           actual_name="after down and up again")
    if lines:
        check.findings.append(Finding("repeatable", "up after down gives a different schema "
                                      "than the first up", tuple(lines)))
    return True


def _apply_again(checks: _Checks, migration: Migration, check: MigrationCheck,
                 after: dict) -> bool:
    """A repeatable migration runs again each time its file changes, over what it made the
    last time: applied again, it must succeed and give the same schema."""
    from pgshift.state import history
    from pgshift.verify.snapshot import diff_snapshots

    schema = checks.settings.schema
    with checks.conn.cursor() as cur:  # forget it was applied, as a changed file would be
        cur.execute(history.delete_sql(schema, history.key_of(migration)))
    if _run(checks, migration, "up", check, again=True) is None:
        return migration.transactional_in("up")  # rolled back: still at "after"
    lines = diff_snapshots(after, checks.snap(), expected_name="after it was applied",
                           actual_name="after it was applied again")
    if lines:
        check.findings.append(Finding("repeatable", "applied again, it gives a different "
                                      "schema than the first time", tuple(lines)))
    return True


def _run(checks: _Checks, migration: Migration, direction: Literal["up", "down"],
         check: MigrationCheck, *, again: bool = False) -> float | None:
    """Run one direction; its duration in ms, or None after recording why it failed."""
    runner = checks.runner
    try:
        if direction == "up":
            return runner.apply(migration, None).duration_ms
        return runner.revert(migration, None).duration_ms
    except MigrationTimeoutError as exc:
        check.findings.append(Finding("budget", _timeout_message(runner, migration, direction),
                                      (_in_verify(exc, checks),
                                       *_where(exc))))
    except MigrationFailedError as exc:
        kind = "repeatable" if again else "failed"
        what = direction
        if again:
            what = "applied again" if migration.kind == "repeatable" else "up after down"
        hint = replay_hint(exc, runner.conn)
        message = _in_verify(exc, checks)
        check.findings.append(Finding(kind, f"{what} failed: {message}",  # type: ignore[arg-type]
                                      (*_where(exc), *((hint,) if hint else ()))))
    return None


def _in_verify(exc: MigrationFailedError, checks: _Checks) -> str:
    """``exc``'s message as it holds in verify: a part run without a transaction keeps its
    earlier statements, and no next run goes on from there, as it would for 'pgshift up'."""
    if exc.resume_line is None:
        return exc.message
    message = without_resume(exc)
    fate = ("which is dropped after verify" if checks.dropped
            else "which verify leaves as it is")
    return (f"{message}; its earlier statements stay done on the scratch database, {fate}: "
            "fix the migration and verify again")


def _timeout_message(runner: Runner, migration: Migration, direction: str) -> str:
    """Which limit ran out: the budget, or a statement timeout set below it."""
    limits = Limits.of(migration, runner.settings)
    budget, statement = limits.budget, limits.statement_timeout
    if statement < budget:
        return f"{direction}: a statement ran over its {statement:g}s statement timeout"
    # The runner's statement_timeout equals the budget: whichever fires first, it is the budget.
    return f"{direction} ran over its {budget:g}s budget"


def _where(exc: MigrationFailedError) -> tuple[str, ...]:
    location = exc.location()
    statement = " ".join((exc.statement or "").split())
    return tuple(x for x in (location and f"at {location}", statement and f"in: {statement[:200]}")
                 if x)
