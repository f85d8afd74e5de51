"""``up --all-targets`` and ``status --all-targets``: the fleet view of many databases/tenants.

On a terminal ``up`` shows a progress bar (rich, imported only then); otherwise it prints one
line per target as it finishes. Both end with a per-target table or, with ``--json``, JSON.
"""

from __future__ import annotations

import argparse
import json
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
        group.add_argument("--json", action="store_true",
                           help="JSON output: what ran (the plan with --dry-run, the summary "
                                "with --all-targets); progress to stderr")


def up_all(args: argparse.Namespace, settings: Settings) -> int:
    from pgshift import targets

    options = {"to": args.to, "out_of_order": args.out_of_order}
    chosen = targets.resolve_targets(settings)
    with _Progress(len(chosen), quiet=args.json) as on_done:
        fleet = targets.up_all(settings, parallel=args.parallel, fail_fast=args.fail_fast,
                               dry_run=args.dry_run, on_done=on_done, targets=chosen, **options)
    if args.json:
        json.dump(fleet_json(fleet), sys.stdout, indent=2)
        print()
    else:
        print_fleet(fleet)
    return fleet.exit_code


def status_all(args: argparse.Namespace, settings: Settings) -> int:
    from pgshift import targets

    lines = targets.status_all(settings, parallel=args.parallel)
    if args.json:
        json.dump({"targets": [_status_json(s) for s in lines]}, sys.stdout, indent=2)
        print()
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


def fleet_json(fleet: FleetResult) -> dict[str, Any]:
    return {
        "targets": [{"target": r.target, "status": r.status, "applied": r.applied,
                     "error": r.error, "duration_ms": round(r.duration_ms, 1)}
                    for r in fleet.results],
        "summary": {s: fleet.count(s) for s in ("applied", "up-to-date", "failed", "skipped")},
        "exit_code": fleet.exit_code,
    }


def print_fleet(fleet: FleetResult, out: Any = None) -> None:
    out = out or sys.stdout  # looked up now: a default bound at import goes stale under capture
    rows = [[r.target, r.status.upper() if r.status == "failed" else r.status, str(r.applied),
             render.duration_text(r.duration_ms), r.error or ""] for r in fleet.results]
    render.table(rows, ["Target", "Result", "Applied", "Took", "Error"], out)
    out.write(f"\n{len(fleet.results)} target(s): {fleet.count('applied')} applied, "
              f"{fleet.count('up-to-date')} up to date, {fleet.count('failed')} failed, "
              f"{fleet.count('skipped')} skipped.\n")


def _status_json(line: TargetStatus) -> dict[str, Any]:
    return {"target": line.target, "applied": line.applied, "pending": line.pending,
            "failed": line.failed, "drift": line.drift, "head": line.head, "error": line.error}


class _Progress:
    """A rich progress bar on a terminal; one line per finished target otherwise."""

    def __init__(self, total: int, *, quiet: bool) -> None:
        self.total, self.quiet, self.bar, self.task = total, quiet, None, None

    def __enter__(self) -> Any:
        if not self.quiet and sys.stdout.isatty():
            from rich.progress import Progress

            self.bar = Progress(transient=True)
            self.bar.start()
            self.task = self.bar.add_task("migrating targets", total=self.total)
        return self.done

    def done(self, result: TargetResult) -> None:
        if self.bar is not None:
            self.bar.advance(self.task)
        elif not self.quiet:
            print(f"{result.target}: {result.status}", flush=True)

    def __exit__(self, *exc: object) -> None:
        if self.bar is not None:
            self.bar.stop()
