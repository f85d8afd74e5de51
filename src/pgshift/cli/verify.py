"""``pgshift verify``: round trip, lint, budget, compatibility and plans on a scratch database."""

from __future__ import annotations

import argparse
import math
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Any, TextIO

from pgshift.cli import render

if TYPE_CHECKING:
    from pgshift.config import Settings
    from pgshift.verify.report import VerifyReport


def register(subparsers: Any, parent: argparse.ArgumentParser) -> None:
    text = ("check every pending migration on a scratch database: down restores the schema, up "
            "is repeatable, lint is clean, each fits its budget, queries keep working")
    p = subparsers.add_parser("verify", parents=[parent], help=text, description=text)
    p.set_defaults(handler=verify)
    p.add_argument("--embedded", action="store_true",
                   help="create the scratch database on a throwaway PostgreSQL, not the "
                        "configured server")
    p.add_argument("--from", dest="source_url", metavar="URL", type=_database_url,
                   help="start from a schema-only copy of this database (pg_dump -s) instead "
                        "of replaying the applied migrations")
    p.add_argument("--queries", type=Path, metavar="FILE",
                   help="the application's SQL statements ($1-style parameters allowed): each "
                        "must keep preparing and running across every migration")
    p.add_argument("--queries-from-stats", metavar="URL", type=_database_url,
                   help="take the top statements from pg_stat_statements of this database")
    p.add_argument("--with-data", nargs="?", const="", default=None, metavar="SCRIPT",
                   help="load sample data (this SQL script, or generated rows) and compare the "
                        "queries' EXPLAIN plans before and after each migration")
    p.add_argument("--rows", type=_row_count, default=10_000, metavar="N",
                   help="generated rows per table for --with-data (default 10000)")
    p.add_argument("--cost-threshold", type=_fraction, default=0.5, metavar="PCT",
                   help="flag a query whose estimated cost grows more than this (default 50%%)")
    p.add_argument("--json", action="store_true", help="JSON output")


# Rows per table: the scratch database lives on the configured server, whose disk they fill.
MAX_ROWS = 10_000_000


def _row_count(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a number of rows: '{text}'") from None
    if value < 1:
        raise argparse.ArgumentTypeError("--rows must be at least 1: plans are compared on "
                                         "tables that hold rows")
    if value > MAX_ROWS:
        raise argparse.ArgumentTypeError(f"--rows must be at most {MAX_ROWS} (per table, on "
                                         "the server of the scratch database)")
    return value


def _database_url(text: str) -> str:
    """A URL or ``key=value`` connection string, checked before any database is made; the
    password never in the message."""
    from psycopg2 import ProgrammingError
    from psycopg2.extensions import parse_dsn

    from pgshift.db import redact

    if not text.strip():
        raise argparse.ArgumentTypeError("an empty URL (give the database's URL)")
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:  # bytes of another encoding in the command line
        raise argparse.ArgumentTypeError("not a database URL: not valid UTF-8") from None
    try:
        parse_dsn(text)
    except ProgrammingError as exc:
        reason = redact(str(exc).strip().removeprefix("invalid dsn: "), text)
        raise argparse.ArgumentTypeError(f"not a database URL: {reason}") from None
    return text


def _fraction(text: str) -> float:
    """A percentage, ``20%`` or ``20`` (PCT, as the help says), as a fraction: 0.2."""
    try:
        value = float(text.strip().removesuffix("%")) / 100
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a percentage: '{text}' (e.g. 50%)") from None
    if not math.isfinite(value):
        raise argparse.ArgumentTypeError(f"not a percentage: '{text}' (e.g. 50%)")
    if value < 0:
        raise argparse.ArgumentTypeError("the threshold cannot be negative")
    return value


def verify(args: argparse.Namespace, settings: Settings) -> int:
    from pgshift import api
    from pgshift.errors import CheckFailedError
    from pgshift.verify import VerifyOptions

    options = VerifyOptions(
        embedded=args.embedded, source_url=args.source_url, queries_file=args.queries,
        queries_from_stats=args.queries_from_stats, with_data=args.with_data is not None,
        data_script=Path(args.with_data) if args.with_data else None, rows=args.rows,
        cost_threshold=args.cost_threshold,
    )
    progress = None if args.json else _progress
    with _hangup_as_terminate():
        report = api.verify(settings, options, progress=progress)
    if args.json:
        render.print_json(report.as_json())
    else:
        render_report(report)
    if not report.ok:
        raise CheckFailedError(report.summary(),
                               hint="fix the migrations above; the target was not touched")
    return 0


@contextmanager
def _hangup_as_terminate() -> Iterator[None]:
    """SIGHUP (the terminal or ssh session closed) handled as SIGTERM is while verify runs:
    the scratch database is dropped on the way out rather than left on the server."""
    import signal

    hangup, terminate = getattr(signal, "SIGHUP", None), signal.getsignal(signal.SIGTERM)
    if hangup is None or not callable(terminate):
        yield
        return
    previous = signal.signal(hangup, terminate)
    try:
        yield
    finally:
        signal.signal(hangup, previous)


def _progress(text: str) -> None:
    print(text, file=sys.stderr, flush=True)


def render_report(report: VerifyReport, out: TextIO | None = None) -> None:
    """Each pending migration with its durations, then its findings and their details."""
    out = out or sys.stdout  # looked up now: a default bound at import goes stale
    from pgshift.cli.render import duration_text

    out.write(f"Scratch database: {report.scratch}\n")
    if report.copied_from:
        out.write(f"Started from the schema of {report.copied_from} "
                  f"({len(report.replayed)} applied migration(s)).\n")
    elif report.replayed:
        out.write(f"Replayed {len(report.replayed)} applied migration(s) "
                  f"(up to {report.replayed[-1]}).\n")
    if not report.migrations:
        out.write("Nothing to verify: no pending migrations.\n")
    width = max([8, *(len(check.label) for check in report.migrations)])
    for check in report.migrations:
        timing = []
        if check.up_ms is not None:
            timing.append(f"up {duration_text(check.up_ms)}")
        if check.down_ms is not None:
            timing.append(f"down {duration_text(check.down_ms)}")
        timing.append("no budget" if check.budget_s == float("inf")
                      else f"budget {check.budget_s:g}s")
        state = "ok" if check.ok else "FAILED"
        out.write(f"  {check.label:>{width}}  {check.description}  [{', '.join(timing)}]  "
                  f"{state}\n")
        for finding in check.findings:
            out.write(f"            {finding.kind}: {finding.message}\n")
            for line in finding.detail:
                out.write(f"              {line}\n")
    for note in report.notes:
        out.write(f"note: {note}\n")
    if report.queries:
        out.write(f"Checked {report.queries} application query(ies) against each migration.\n")
    out.write(("OK: " if report.ok else "") + report.summary() + "\n")
