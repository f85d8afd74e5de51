"""One pending migration's round trip on the scratch database, each step checked.

Snapshot, up (timed against its budget), snapshot, down, snapshot (must equal the first), up
again, snapshot (must equal the second); the application's queries prepared before the first
up and checked after it. A repeatable migration has no down: it is applied a second time over
what it made, as when its file changes. Up and down run through the real ``Runner``; a failure
is recorded as a finding, never raised.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Literal

from pgshift.budget import Limits
from pgshift.errors import MigrationFailedError, MigrationTimeoutError
from pgshift.verify.replay import replay_hint, without_resume
from pgshift.verify.report import Finding, MigrationCheck

if TYPE_CHECKING:
    from psycopg2.extensions import connection as Connection

    from pgshift.config import Settings
    from pgshift.migrations.model import Migration
    from pgshift.runner import Runner
    from pgshift.verify.compat import QueryProbe


@dataclass
class Checks:
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


def round_trip(checks: Checks, migration: Migration, check: MigrationCheck) -> bool:
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


def _apply_again(checks: Checks, migration: Migration, check: MigrationCheck,
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


def _run(checks: Checks, migration: Migration, direction: Literal["up", "down"],
         check: MigrationCheck, *, again: bool = False) -> float | None:
    """Run one direction; its duration in ms, or None after recording why it failed."""
    runner = checks.runner
    try:
        if direction == "up":
            return runner.apply(migration, None).duration_ms
        return runner.revert(migration, None).duration_ms
    except MigrationTimeoutError as exc:
        check.findings.append(Finding("budget", _timeout_message(runner, migration, direction),
                                      (_in_verify(exc, checks), *_where(exc)),
                                      path=exc.path, line=exc.line))
    except MigrationFailedError as exc:
        kind = "repeatable" if again else "failed"
        what = direction
        if again:
            what = "applied again" if migration.kind == "repeatable" else "up after down"
        hint = replay_hint(exc, runner.conn)
        message = _in_verify(exc, checks)
        check.findings.append(Finding(kind, f"{what} failed: {message}",  # type: ignore[arg-type]
                                      (*_where(exc), *((hint,) if hint else ())),
                                      path=exc.path, line=exc.line))
    return None


def _in_verify(exc: MigrationFailedError, checks: Checks) -> str:
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
