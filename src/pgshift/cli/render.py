"""Plain-text and JSON rendering of results. No rich here: this is on the fast ``status`` path."""

from __future__ import annotations

import sys
from collections.abc import Callable, Mapping, Sequence
from typing import TYPE_CHECKING, Any, TextIO

from pgshift.db import redact

if TYPE_CHECKING:
    from datetime import datetime

    from pgshift.callbacks import Callback, Callbacks
    from pgshift.migrations.model import Migration
    from pgshift.plan import Plan, PlanItem
    from pgshift.runner import Outcome
    from pgshift.state.runs import Run
    from pgshift.verify.schema_drift import SchemaDrift

STATE_LABELS = {
    "applied": "applied",
    "pending": "pending",
    "failed": "FAILED",
    "changed": "CHANGED",  # its detail says how: "file changed since it was applied"
    "changed-above-stop": "CHANGED above where it stopped",
    "missing": "MISSING file",
    "out-of-order": "OUT OF ORDER",
    "below-baseline": "below baseline",
    "unused": "unused baseline",
}


def table(rows: Sequence[Sequence[str]], headers: Sequence[str], out: TextIO | None = None) -> None:
    """Columns aligned with two spaces; the last column is not padded."""
    out = out or sys.stdout  # at call time: a default bound at import goes stale
    lines = (headers, *rows)
    # One format string for every line: status prints a thousand of them.
    line = "  ".join(f"{{:<{max(map(len, column))}}}" for column in zip(*lines, strict=True))
    line = line[: line.rindex("{") + 1] + "}"  # the last column is not padded
    out.write("".join(line.format(*row).rstrip() + "\n" for row in lines))


def print_json(data: Any, out: TextIO | None = None,
               default: Callable[[Any], Any] | None = None) -> None:
    """``data`` as indented JSON and a line break, in one write: ``json.dump`` writes each token
    on its own (560,000 writes for a status of 10,000 migrations)."""
    import json  # only for --json

    (out or sys.stdout).write(json.dumps(data, indent=2, default=default) + "\n")


def plan_item_json(item: PlanItem) -> dict[str, Any]:
    entry = item.entry
    return {
        "version": item.version,
        "description": item.description,
        "script": item.script,
        "kind": item.kind,
        "state": item.state,
        "detail": item.detail or None,
        "line": item.line,
        "applied_at": entry.applied_at.isoformat() if entry and entry.status == "applied" else None,
        "applied_by": entry.applied_by if entry else None,
        "duration_ms": entry.duration_ms if entry else None,
        "checksum": item.migration.checksum if item.migration else None,
        "transactional": item.migration.transactional if item.migration else None,
        "reversible": item.migration.reversible if item.migration else None,
    }


def status(plan: Plan, *, as_json: bool, out: TextIO | None = None) -> None:
    out = out or sys.stdout  # at call time: a default bound at import goes stale
    if as_json:
        print_json({"migrations": [plan_item_json(i) for i in plan.items],
                    "pending": len(plan.pending()), "drift": len(plan.drift())}, out)
        return
    if not plan.items:
        out.write("No migrations found.\n")
        return
    rows = []
    for item in plan.items:
        entry = item.entry
        state = STATE_LABELS[item.state]
        if item.detail and (item.state != "applied" or item.migration is None):
            state = f"{state} ({item.detail})"
        applied = (
            local_time(entry.applied_at) if (entry and entry.status == "applied") else "-")
        duration = (
            duration_text(entry.duration_ms) if entry and entry.duration_ms is not None else "-"
        )
        version = item.version or "R"
        if item.kind == "baseline":
            version = f"B{version}"
        rows.append([version, item.description, applied, duration, state])
    table(rows, ["Version", "Description", "Applied at", "Duration", "State"], out)
    pending, drift = len(plan.pending()), len(plan.drift())
    summary = f"{sum(1 for i in plan.items if i.state == 'applied')} applied, {pending} pending"
    below = sum(1 for i in plan.items if i.state == "below-baseline")
    if below:
        summary += f", {below} below the baseline"
    if drift:
        summary += f", {drift} drifted (run 'pgshift validate')"
    out.write(f"\n{summary}\n")


def local_time(moment: datetime) -> str:
    """``YYYY-MM-DD HH:MM:SS`` in this machine's time zone, as ``git log`` shows times: the
    server hands them over in its session's zone (often UTC), which the table cannot show."""
    # isoformat, as strftime would write it but at half the cost
    return moment.astimezone().isoformat(" ", "seconds")[:19]


def duration_text(ms: float) -> str:
    if ms < 1000:
        return f"{ms:.0f} ms"
    if ms < 120_000:
        return f"{ms / 1000:.1f} s"
    return f"{ms / 60000:.1f} min"


def lock_lines(locks: Sequence[tuple[str, str]]) -> list[str]:
    """``locks users: ACCESS EXCLUSIVE (blocks reads and writes)``, one line per table lock,
    indented under a plan line."""
    if not locks:
        return []
    from pgshift.lint.locks import WHAT_IT_BLOCKS  # the linter: only when there are locks

    return [f"            locks {table}: {lock} ({WHAT_IT_BLOCKS[lock]})\n"
            for table, lock in locks]


def shown_sql(sql: str, secrets: Sequence[str] = ()) -> str:
    """SQL as a dry run shows it: the ``secrets`` (secret placeholders' values, see
    ``placeholders.secret_values``) and any password masked. A short secret is masked only
    as a whole word: 'e' is in every word."""
    if secrets:
        import re

        from pgshift.redaction import MASK

        for secret in sorted(secrets, key=len, reverse=True):
            sql = (sql.replace(secret, MASK) if len(secret) >= 4 else
                   re.sub(rf"(?<![^\W_]){re.escape(secret)}(?![^\W_])", MASK, sql))
    return redact(sql)


# When each callback event runs, as a dry run says it (see pgshift.callbacks).
_CALLBACK_WHEN = {
    "beforeMigrate": "before the migrations, in its own transaction",
    "afterMigrate": "after the migrations, in its own transaction",
    "beforeUndo": "before the rollbacks, in its own transaction",
    "afterUndo": "after the rollbacks, in its own transaction",
    "beforeEachMigrate": "in each migration's transaction, before it",
    "afterEachMigrate": "in each migration's transaction, after it",
    "beforeEachUndo": "in each rollback's transaction, before it",
    "afterEachUndo": "in each rollback's transaction, after it",
}


def _callbacks_of(callbacks: Callbacks | None, direction: str) -> list[Callback]:
    """The callbacks a run in ``direction`` runs, in the order their events come."""
    if callbacks is None:
        return []
    events = (["beforeMigrate", "beforeEachMigrate", "afterEachMigrate", "afterMigrate"]
              if direction == "up" else
              ["beforeUndo", "beforeEachUndo", "afterEachUndo", "afterUndo"])
    return [c for event in events for c in callbacks.of(event)]


def _callback_sql(callback: Callback, secrets: Sequence[str]) -> str:
    return shown_sql("\n".join(s.text.strip().rstrip(";") + ";" for s in callback.statements),
                     secrets)


def dry_run_json(migrations: Sequence[Migration], direction: str,
                 locks: Mapping[str, list[tuple[str, str]]] | None = None,
                 secrets: Sequence[str] = (), callbacks: Callbacks | None = None
                 ) -> dict[str, Any]:
    """The dry run's plan for tools (a pull request bot): each migration, its locks, its SQL
    (``secrets`` masked, see ``shown_sql``), and the callbacks that run around them."""
    blocks: Mapping[str, str] = {}
    if locks:  # the linter: only when there are locks
        from pgshift.lint.locks import WHAT_IT_BLOCKS

        blocks = WHAT_IT_BLOCKS

    def sql_of(migration: Migration) -> str:
        return shown_sql((migration.up_sql if direction == "up" else migration.down_sql or ""
                          ).strip(), secrets)

    return {"direction": direction, "dry_run": True, "migrations": [
        {"label": m.label, "version": str(m.version) if m.version is not None else None,
         "script": m.name, "description": m.description, "transactional": m.transactional,
         "locks": [{"table": table, "lock": lock, "blocks": blocks[lock]}
                   for table, lock in (locks or {}).get(m.label, ())],
         "sql": sql_of(m)}
        for m in migrations],
        "callbacks": [{"event": c.event, "file": c.path.name, "when": _CALLBACK_WHEN[c.event],
                       "sql": _callback_sql(c, secrets)}
                      for c in _callbacks_of(callbacks, direction)] if migrations else []}


def run_json(outcomes: Sequence[Outcome], direction: str, duration_ms: float
             ) -> dict[str, Any]:
    """What ``up``/``down`` did, for tools: each migration, its duration and attempts."""
    return {"direction": direction, "dry_run": False, "duration_ms": round(duration_ms),
            "migrations": [
                {"label": o.migration.label, "script": o.migration.name,
                 "description": o.migration.description, "duration_ms": round(o.duration_ms, 1),
                 "attempts": o.attempts}
                for o in outcomes]}


def dry_run(migrations: Sequence[Migration], direction: str, out: TextIO | None = None,
            locks: Mapping[str, list[tuple[str, str]]] | None = None,
            secrets: Sequence[str] = (), callbacks: Callbacks | None = None) -> None:
    """The plan, with the table locks each migration takes (when known), the SQL each
    migration would run (``secrets`` masked, see ``shown_sql``), and the callbacks' SQL."""
    out = out or sys.stdout  # at call time: a default bound at import goes stale
    if not migrations:
        out.write("Nothing to do.\n")
        return
    out.write(f"Plan ({direction}, dry run: nothing is changed):\n")
    for migration in migrations:
        mode = "one transaction" if migration.transactional else "no transaction"
        out.write(f"  {migration.label:>8}  {migration.description}  [{mode}]\n")
        out.writelines(lock_lines((locks or {}).get(migration.label, ())))
    around = _callbacks_of(callbacks, direction)
    for callback in around:
        out.write(f"  callback  {callback.path.name}  [{_CALLBACK_WHEN[callback.event]}]\n")
    before = [c for c in around if c.event.startswith("before")]
    for callback in before:
        _write_callback(out, callback, secrets)
    for migration in migrations:
        sql = migration.up_sql if direction == "up" else (migration.down_sql or "")
        out.write(f"\n-- {migration.name} ({direction})\n{shown_sql(sql.strip(), secrets)}\n")
    for callback in around[len(before):]:
        _write_callback(out, callback, secrets)


def _write_callback(out: TextIO, callback: Callback, secrets: Sequence[str]) -> None:
    out.write(f"\n-- {callback.path.name} (callback: {_CALLBACK_WHEN[callback.event]})\n"
              f"{_callback_sql(callback, secrets)}\n")


def schema_drift(drift: SchemaDrift, out: TextIO | None = None) -> None:
    """``validate --schema-drift``: each difference, or that there is none; column-order notes."""
    out = out or sys.stdout
    for note in drift.order_notes:
        out.write(f"note: {note} (a column added back by a down part can only go last)\n")
    if drift.ok:
        out.write(f"OK: the schema is what the {len(drift.replayed)} applied migration(s) make "
                  f"(replayed in {drift.scratch}).\n")
        return
    out.write(f"Schema drift: {len(drift.differences)} difference(s) between the database and "
              f"its {len(drift.replayed)} applied migration(s) (replayed in {drift.scratch}):\n")
    out.writelines(f"  {line}\n" for line in drift.differences)


_RUN_VERBS = {"up": "applied", "down": "rolled back", "baseline": "recorded",
              "repair": "repaired", "adopt": "recorded"}


def runs(recorded: Sequence[Run], out: TextIO | None = None) -> None:
    """``pgshift log``: one line per run, newest first."""
    out = out or sys.stdout
    if not recorded:
        out.write("No runs recorded.\n")
        return
    rows = [(str(run.id), local_time(run.started_at), _took(run),
             f"{run.run_by}@{run.machine or '?'}", run.command, run.status, _what_run_did(run))
            for run in recorded]
    table(rows, ("Run", "Started", "Took", "By", "Command", "Result", "What"), out=out)


def _took(run: Run) -> str:
    if run.finished_at is None:
        return "-"
    return duration_text((run.finished_at - run.started_at).total_seconds() * 1000)


def _what_run_did(run: Run) -> str:
    """``V003, V004 applied``; ``V001, V002 … V010 (10) applied`` for a long run."""
    verb = run.command.split()[0]  # "up --script": a psql script's run
    labels = [name.split("__")[0] if name.startswith(("V", "U")) else name
              for name in run.migrations]
    done = ", ".join(labels) if len(labels) <= 4 else (
        f"{labels[0]}, {labels[1]} … {labels[-1]} ({len(labels)})")
    what = f"{done} {_RUN_VERBS.get(verb, verb)}" if done else ""
    if run.error:
        what = f"{what}; {run.error}" if what else run.error
    return what or "-"
