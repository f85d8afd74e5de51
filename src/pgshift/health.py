"""``pgshift doctor``: whether migrations can run here, and what would slow or stop them.

Read-only. Each check says ok, warn (migrations run, but something deserves a look) or fail
(``up`` would refuse or fail). It reuses the checks ``up`` makes before it runs anything, so
the two cannot disagree.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Literal

from pgshift.errors import PgshiftError

if TYPE_CHECKING:
    from psycopg2.extensions import connection as Connection

    from pgshift.config import Settings
    from pgshift.migrations.model import Migration

Status = Literal["ok", "warn", "fail"]

# A transaction open longer than this holds locks a migration may need for as long.
LONG_TRANSACTION_S = 60


@dataclass(frozen=True)
class Check:
    """One line of the report."""

    name: str
    status: Status
    detail: str


def run_checks(settings: Settings) -> list[Check]:
    """Every check, in order; after a failed connection, that one alone."""
    from pgshift.db import connect

    try:
        conn = connect(settings, application_name=f"{settings.application_name} doctor")
    except PgshiftError as exc:
        return [Check("connection", "fail", str(exc))]
    try:
        checks = [_server(conn)]
        for name, check in _CHECKS:
            checks.append(_run_check(name, check, conn, settings))
        return checks
    finally:
        conn.close()


def _run_check(name: str, check: Callable[[Connection, Settings], Check], conn: Connection,
               settings: Settings) -> Check:
    """One check; a refusal, pgshift's or the server's (a role without privileges), fails it
    and leaves the next checks to run."""
    import psycopg2

    try:
        return check(conn, settings)
    except PgshiftError as exc:  # with the file it is about, and what to do
        return Check(name, "fail", str(exc))
    except psycopg2.Error as exc:
        if not conn.closed and not conn.autocommit:
            conn.rollback()
        first = (str(exc).strip().splitlines() or [type(exc).__name__])[0]
        return Check(name, "fail", f"the server refused pgshift's query: {first}")


def _server(conn: Connection) -> Check:
    with conn.cursor() as cur:
        cur.execute("SELECT current_setting('server_version'), current_user, current_database()")
        version, user, database = cur.fetchone()
    return Check("connection", "ok", f"PostgreSQL {version}, role {user}, database {database}")


def _writable(conn: Connection, settings: Settings) -> Check:
    from pgshift.preflight import check_writable

    check_writable(conn, settings)
    return Check("privileges", "ok", "a primary, writable, and the role may create what "
                                     "migrations and pgshift's history need")


def _pooler(conn: Connection, settings: Settings) -> Check:
    from pgshift.preflight import refuse_transaction_pooling

    refuse_transaction_pooling(conn, settings)
    return Check("pooler", "ok", "no pooler in transaction mode between pgshift and the server")


def _migrations(conn: Connection, settings: Settings) -> Check:
    from pgshift.api import _read_plan_with_stops
    from pgshift.migrations.discover import discover_migrations
    from pgshift.plan import drift_error, refuse_drift, select_up

    newer = _newer_history(conn, settings)
    if newer is not None:  # before its rows are read: they may be of kinds this one lacks
        return Check("migrations", "fail", newer)
    files = discover_migrations(settings.dir, flavor=settings.flavor,
                                placeholders=settings.placeholders)
    plan = _read_plan_with_stops(conn, settings, files)
    drift = plan.drift()
    stopped = [i for i in drift if i.state == "changed-above-stop"]
    if stopped:  # what up or down refuses, with the file, the line and what to do
        more = f"; {len(drift) - 1} more drifted: see 'pgshift validate'" if len(
            drift) > 1 else ""
        return Check("migrations", "fail", f"{drift_error(stopped[0])}{more}")
    if drift:
        names = ", ".join(f"{i.script} ({i.state})" for i in drift[:3])
        return Check("migrations", "fail", f"{len(drift)} drifted: {names}; see 'pgshift "
                                           "validate'")
    refuse_drift(plan, allow_out_of_order=False)  # what up refuses of interrupted runs
    _check_runnable(settings, select_up(plan, None))
    counts = f"{len(plan.applied())} applied, {len(plan.pending())} to run"
    interrupted = plan.interrupted()
    if interrupted:
        return Check("migrations", "warn", f"{counts}; {interrupted[0].script} was interrupted: "
                                           "the next 'up' resumes it")
    return Check("migrations", "ok", f"{counts} (in {settings.dir})")


def _check_runnable(settings: Settings, selected: list[Migration]) -> None:
    """Raise what ``up`` refuses of the files it would run before it runs any (a placeholder
    with no value, a statement that does not parse, no down part) and of the callbacks."""
    from pgshift.locked_run import directory_callbacks
    from pgshift.migrations.split_memo import remembering
    from pgshift.preflight import check_runnable

    with remembering(settings.cache_dir):
        check_runnable(selected)
    directory_callbacks(settings)


def _newer_history(conn: Connection, settings: Settings) -> str | None:
    """What to say when pgshift's tables here were made by a newer pgshift; else None.

    This pgshift would read its rows as it knows them: a kind of row added since reads as a
    missing file, which 'repair --remove-missing' would delete."""
    from psycopg2 import sql

    from pgshift.state.upgrades import SCHEMA_VERSION, newer_history_error

    with conn.cursor() as cur:
        cur.execute("SELECT to_regclass(format('%%I.meta', %s::text)) IS NOT NULL",
                    (settings.schema,))
        if not cur.fetchone()[0]:
            return None
        cur.execute(sql.SQL("SELECT value FROM {}.meta WHERE key = 'schema_version'").format(
            sql.Identifier(settings.schema)))
        row = cur.fetchone()
    if row is None or not row[0].isdigit() or int(row[0]) <= SCHEMA_VERSION:
        return None
    error = newer_history_error(settings.schema, int(row[0]))  # the words up refuses with
    return f"{error.message} (hint: {error.hint})"


def _last_run(conn: Connection, settings: Settings) -> Check:
    """How the last run that changed the database ended (the run log, ``pgshift log``)."""
    from pgshift.state.runs import read_runs

    runs = read_runs(conn, settings.schema, limit=1)
    if not runs:
        return Check("last run", "ok", "none recorded yet")
    run = runs[0]
    when = run.started_at.astimezone().strftime("%Y-%m-%d %H:%M:%S")  # this machine's zone
    what = f"#{run.id} {run.command} by {run.run_by}@{run.machine or '?'} at {when}"
    if run.status == "done":
        return Check("last run", "ok", f"{what}: done")
    ended = {"failed": f"failed: {run.error}", "running": "is running now",
             "interrupted": "was interrupted (its session is gone)"}[run.status]
    return Check("last run", "warn", f"{what} {ended}; see 'pgshift log'")


def _migration_lock(conn: Connection, settings: Settings) -> Check:
    from pgshift.state.lock import holder

    found = holder(conn, settings.lock_key)
    if found is not None:
        return Check("lock", "warn", f"another runner holds the migration lock: "
                                     f"{found.describe()}")
    return Check("lock", "ok", "the migration lock is free")


def _long_transactions(conn: Connection, settings: Settings) -> Check:
    with conn.cursor() as cur:
        cur.execute(
            "SELECT pid, coalesce(nullif(application_name, ''), usename::text, '?'), "
            "extract(epoch FROM now() - xact_start)::int FROM pg_stat_activity "
            "WHERE xact_start < now() - make_interval(secs => %s) AND pid <> pg_backend_pid() "
            "AND datname = current_database() ORDER BY xact_start", (LONG_TRANSACTION_S,))
        rows = cur.fetchall()
    if not rows:
        return Check("long transactions", "ok",
                     f"none open for more than {LONG_TRANSACTION_S} s")
    pid, app, seconds = rows[0]
    return Check("long transactions", "warn",
                 f"{len(rows)} open for more than {LONG_TRANSACTION_S} s (the oldest: pid "
                 f"{pid}, {app}, {seconds} s): a migration that needs a lock on a table they "
                 "have used waits for them; lock_timeout and retries keep the app from queueing "
                 "behind it ('pgshift ps' shows them)")


def _statements(conn: Connection, settings: Settings) -> Check:
    from pgshift.phases import statements_schema

    if statements_schema(conn) is None:
        return Check("pg_stat_statements", "warn",
                     "not installed: pgshift cannot check that a column or table a contract "
                     "migration drops is unused (CREATE EXTENSION pg_stat_statements, with it "
                     "in shared_preload_libraries)")
    return Check("pg_stat_statements", "ok",
                 "installed: contract migrations are checked against recent queries")


_CHECKS: tuple[tuple[str, Callable[[Connection, Settings], Check]], ...] = (
    ("privileges", _writable),
    ("pooler", _pooler),
    ("migrations", _migrations),
    ("last run", _last_run),
    ("lock", _migration_lock),
    ("long transactions", _long_transactions),
    ("pg_stat_statements", _statements),
)
