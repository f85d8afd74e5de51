"""``up --all-targets`` and ``status --all-targets``: the fleet view of many databases/tenants.

On a terminal ``up`` shows a progress bar (rich, imported only then); otherwise it prints one
line per target as it finishes. Both end with a per-target table or, with ``--json``, JSON.
"""

from __future__ import annotations

import argparse
import sys
from typing import TYPE_CHECKING, Any

from pgshift.cli import render

if TYPE_CHECKING:
    from pgshift.config import Settings
    from pgshift.targets import FleetResult, TargetResult, TargetStatus


def add_fleet_options(parser: argparse.ArgumentParser, *, up: bool) -> None:
    """The --all-targets options of ``up`` (and ``status``)."""
    group = parser.add_argument_group("many targets (the [targets] config table)")
    group.add_argument("--all-targets", action="store_true",
                       help="run on every configured database or tenant schema")
    group.add_argument("--parallel", type=int, default=4, metavar="N",
                       help="targets at a time (default 4)")
    if up:
        group.add_argument("--fail-fast", action="store_true",
                           help="skip the targets not started yet once one fails")


def up_all(args: argparse.Namespace, settings: Settings) -> int:
    from pgshift import targets

    if getattr(args, "cancel_blockers", None):
        from pgshift.errors import InputError

        raise InputError("--cancel-blockers watches one database's run: it does not go with "
                         "--all-targets", hint="run 'pgshift up --cancel-blockers ...' on the "
                         "target that is blocked")
    # Every option of a one-database up that chooses what runs: one left out would run on
    # every target what the flag was given to hold back (--phase expand).
    options = {"to": args.to, "out_of_order": args.out_of_order, "phase": args.phase,
               "allow_contract": args.allow_contract}
    chosen = targets.resolve_targets(settings)
    try:
        with _Progress(len(chosen), json_output=args.json, dry_run=args.dry_run) as on_done:
            fleet = targets.up_all(settings, parallel=args.parallel, fail_fast=args.fail_fast,
                                   dry_run=args.dry_run, on_done=on_done, targets=chosen,
                                   **options)
    except targets.FleetInterrupted as stopped:  # the fleet's results, then main's message
        _show_fleet(args, stopped.fleet, interrupted=True)
        raise
    _show_fleet(args, fleet)
    return fleet.exit_code


def _show_fleet(args: argparse.Namespace, fleet: FleetResult, *,
                interrupted: bool = False) -> None:
    if args.json:
        shown = fleet_json(fleet, dry_run=args.dry_run)
        if interrupted:  # the code main() exits with: 128 + the signal it recorded
            from pgshift.cli.main import interrupt_exit_code

            shown["interrupted"], shown["exit_code"] = True, interrupt_exit_code()
        render.print_json(shown)
    else:
        print_fleet(fleet, dry_run=args.dry_run)


def status_all(args: argparse.Namespace, settings: Settings) -> int:
    from pgshift import targets

    lines = targets.status_all(settings, parallel=args.parallel)
    if args.json:
        render.print_json({"targets": [_status_json(s) for s in lines]})
    else:
        rows = [[s.target, str(s.applied), str(s.pending), str(s.failed), str(s.drift),
                 s.head or "-", s.error or ""] for s in lines]
        render.table(rows, ["Target", "Applied", "Pending", "Failed", "Drift", "At", "Error"],
                     sys.stdout)
    if not getattr(args, "exit_code", False):
        return 0
    if any(s.error for s in lines):
        return 2  # a target could not be read
    if any(s.drift for s in lines):
        return 3
    return 1 if any(s.pending or s.failed for s in lines) else 0


def fleet_json(fleet: FleetResult, *, dry_run: bool = False) -> dict[str, Any]:
    """The fleet's run for tools; with ``dry_run``, "applied" counts what would be."""
    return {
        "dry_run": dry_run,
        "targets": [{"target": r.target, "status": r.status, "applied": r.applied,
                     "error": r.error, "duration_ms": round(r.duration_ms, 1)}
                    for r in fleet.results],
        "summary": {s: fleet.count(s) for s in ("applied", "up-to-date", "failed", "skipped")},
        "exit_code": fleet.exit_code,
    }


def print_fleet(fleet: FleetResult, out: Any = None, *, dry_run: bool = False) -> None:
    """The per-target table and the summary; with ``dry_run``, what would be applied."""
    out = out or sys.stdout  # looked up now: a default bound at import goes stale under capture
    applied = "would apply" if dry_run else "applied"
    rows = [[r.target, r.status.upper() if r.status == "failed" else
             applied if r.status == "applied" else r.status, str(r.applied),
             render.duration_text(r.duration_ms), r.error or ""] for r in fleet.results]
    render.table(rows, ["Target", "Result", "Would apply" if dry_run else "Applied", "Took",
                        "Error"], out)
    out.write(f"\n{len(fleet.results)} target(s): {fleet.count('applied')} {applied}, "
              f"{fleet.count('up-to-date')} up to date, {fleet.count('failed')} failed, "
              f"{fleet.count('skipped')} skipped"
              + (" (dry run: nothing was changed).\n" if dry_run else ".\n"))


def _status_json(line: TargetStatus) -> dict[str, Any]:
    return {"target": line.target, "applied": line.applied, "pending": line.pending,
            "failed": line.failed, "drift": line.drift, "head": line.head, "error": line.error}


class _Progress:
    """A rich progress bar on a terminal; one line per finished target otherwise (on stderr
    with ``--json``, which has stdout to itself)."""

    def __init__(self, total: int, *, json_output: bool, dry_run: bool = False) -> None:
        self.total, self.bar, self.task = total, None, None
        self.out = sys.stderr if json_output else sys.stdout
        self.dry_run = dry_run

    def __enter__(self) -> Any:
        if self.out is sys.stdout and sys.stdout.isatty():
            from rich.progress import Progress

            from pgshift.cli.terminal import console

            self.bar = Progress(transient=True, console=console())
            self.bar.start()
            self.task = self.bar.add_task("migrating targets", total=self.total)
        return self.done

    def done(self, result: TargetResult) -> None:
        if self.bar is not None:
            self.bar.advance(self.task)
        else:
            status = ("would apply" if self.dry_run and result.status == "applied"
                      else result.status)
            print(f"{result.target}: {status}", file=self.out, flush=True)

    def __exit__(self, *exc: object) -> None:
        if self.bar is not None:
            self.bar.stop()
