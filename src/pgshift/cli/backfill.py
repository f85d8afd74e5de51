"""``pgshift backfill TABLE --set "col = expr" --where "pred"``: a one-off batched UPDATE.

On a terminal it shows a rich progress bar (rows, rate, ETA); otherwise one line every few
seconds. Killed, it resumes from its checkpoint when the same command runs again (however the
UPDATE is spaced); once it finished, the same command does nothing: no row is updated twice.
``--again`` starts a finished one over on purpose (exit 2 while it is running or stopped
part-way: that one resumes without ``--again``).
"""

from __future__ import annotations

import argparse
import sys
import time
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from pgshift.backfill.batched import Batch
    from pgshift.backfill.progress import BackfillProgress
    from pgshift.config import Settings


def register(subparsers: Any, parent: argparse.ArgumentParser) -> None:
    help = "update a large table in batches (keyset, adaptive, resumable)"
    p = subparsers.add_parser("backfill", parents=[parent], help=help, description=help)
    p.set_defaults(handler=backfill)
    p.add_argument("table", help="the table, e.g. users or app.users")
    # Repeated, they add up (as in psql's habits: one column per --set, one test per --where).
    p.add_argument("--set", required=True, dest="assignments", metavar="ASSIGNMENTS",
                   action="append",
                   help="what to set, e.g. \"timezone = 'UTC'\" (repeat for more columns)")
    p.add_argument("--where", metavar="PREDICATE", action="append",
                   help="which rows, e.g. 'timezone IS NULL' (false once a row is done; "
                        "repeated, all must hold)")
    p.add_argument("--batch-size", default="auto", help="keys per batch, or auto (default)")
    p.add_argument("--target", default="100ms", help="batch duration auto aims at (100ms)")
    p.add_argument("--pause", default="10ms", help="sleep between batches (10ms)")
    p.add_argument("--vacuum", default="auto", help="VACUUM every N batches, auto or off")
    p.add_argument("--max-lag", default="10s", help="wait while replication lag exceeds it")
    p.add_argument("--again", action="store_true",
                   help="start a finished backfill over (refused while it runs or stopped "
                        "part-way: run it without --again to resume)")
    p.add_argument("--progress", choices=("auto", "bar", "lines", "none"), default="auto",
                   help="progress display (auto: a bar on a terminal)")


def backfill(args: argparse.Namespace, settings: Settings) -> int:
    from pgshift import api
    from pgshift.backfill.options import options_from
    from pgshift.errors import InputError

    for flag, values in (("--set", args.assignments), ("--where", args.where or ())):
        if any(not value.strip() for value in values):
            raise InputError(f"{flag} is empty", hint=(
                "leave --where out to update every row" if flag == "--where"
                else "give what to set, e.g. --set \"timezone = 'UTC'\""))
    pairs = [("batch-size", args.batch_size), ("target", args.target), ("pause", args.pause),
             ("vacuum", args.vacuum), ("max-lag", args.max_lag)]
    try:
        options = options_from(pairs)
    except ValueError as exc:
        raise InputError(str(exc), hint="'pgshift backfill --help' lists the values each "
                                        "option takes") from None
    mode = args.progress
    if mode == "auto":
        mode = "bar" if sys.stdout.isatty() else "lines"
    display = _Bar() if mode == "bar" else _Lines(quiet=mode == "none")
    with display:
        result = api.backfill(settings, args.table, ", ".join(args.assignments),
                              _all_of(args.where),
                              options=options, again=args.again, on_batch=display.batch,
                              on_note=display.note)
    if result.done_already:
        print(f"Backfill of {result.table} was done already ({result.rows} row(s) in "
              f"{result.batches} batch(es)): nothing to do. A changed statement runs anew; "
              "--again runs this one over.")
        return 0
    print(f"Backfilled {result.table}: {result.rows} row(s) in {result.batches} batch(es), "
          f"{_seconds(result.seconds)}" + (" (resumed)" if result.resumed else "")
          + (" (run again)" if result.again else "")
          + (f", {result.vacuums} vacuum(s)" if result.vacuums else "") + ".")
    return 0


def _all_of(predicates: list[str] | None) -> str | None:
    """Repeated --where options as one predicate: each holds (and each in parentheses, so
    an OR in one cannot reach into another)."""
    if not predicates:
        return None
    if len(predicates) == 1:
        return predicates[0]
    return " AND ".join(f"({predicate})" for predicate in predicates)


def _seconds(value: float | None) -> str:
    if value is None:
        return "?"
    if value < 120:
        return f"{value:.1f}s"
    return f"{value / 60:.1f}min"


class _Lines:
    """Plain progress: a line every 2 seconds, and notes as they come."""

    def __init__(self, *, quiet: bool) -> None:
        self.quiet = quiet
        self.last = 0.0

    def __enter__(self) -> _Lines:
        return self

    def __exit__(self, *exc: object) -> None:
        return None

    def note(self, text: str) -> None:
        if not self.quiet:
            print(f"  {text}", flush=True)

    def batch(self, batch: Batch) -> None:
        now = time.monotonic()
        if self.quiet or now - self.last < 2.0:
            return
        self.last = now
        total = f"/{batch.keys_total}" if batch.keys_total else ""
        rate = f"{batch.rows_per_second:,.0f} rows/s" if batch.rows_per_second else "-"
        print(f"  {batch.rows_done} row(s) updated, {batch.keys_done}{total} keys, "
              f"batch {batch.number} ({batch.keys} keys), {rate}, ETA "
              f"{_seconds(batch.eta_seconds)}", flush=True)


class _Bar:
    """A rich progress bar over the keys walked, with rows updated, rate and ETA.

    The ETA is the backfill's own (keys left at its rate, pauses included), not rich's: a
    resumed run starts far along, which rich would take for a burst of speed."""

    def __init__(self) -> None:
        from rich.progress import BarColumn, Progress, TaskProgressColumn, TextColumn

        from pgshift.cli.terminal import console

        self.progress = Progress(
            TextColumn("[bold]backfill"), BarColumn(), TaskProgressColumn(),
            TextColumn("{task.fields[rows]} rows · {task.fields[rate]} · ETA {task.fields[eta]}"),
            transient=False, console=console())
        self.task = self.progress.add_task("backfill", total=None, rows=0, rate="-", eta="?")

    def __enter__(self) -> _Bar:
        self.progress.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.progress.stop()

    def note(self, text: str) -> None:
        self.progress.console.print(f"  {text}")

    def batch(self, batch: Batch) -> None:
        rate = f"{batch.rows_per_second:,.0f}/s" if batch.rows_per_second else "-"
        self.progress.update(self.task, completed=batch.keys_done,
                             total=max(batch.keys_total or 0, batch.keys_done) or None,
                             rows=f"{batch.rows_done:,}", rate=rate,
                             eta=_seconds(batch.eta_seconds))


def print_backfills(items: list[BackfillProgress], out: Any = None) -> None:
    """The 'Backfills' section of ``pgshift status``: one line each, nothing when none."""
    from pgshift.cli import render

    if not items:
        return
    out = out or sys.stdout
    rows = []
    for item in items:
        fraction = item.fraction
        done = f"{fraction:.0%}" if fraction is not None else "?"
        rate = f"{item.rows_per_second:,.0f}/s" if item.rows_per_second else "-"
        eta = _seconds(item.eta_seconds) if item.status in ("running", "interrupted") else "-"
        state = item.status if not item.error else f"{item.status} ({item.error[:60]})"
        rows.append([item.id, item.table_name, f"{item.rows_done:,}", done, rate, eta, state])
    out.write("\nBackfills:\n")
    render.table(rows, ["Id", "Table", "Rows done", "Keys", "Rate", "ETA", "State"], out)
