"""``pgshift log``: the runs that changed the database, newest first."""

from __future__ import annotations

import argparse
from typing import TYPE_CHECKING, Any

from pgshift.cli import render

if TYPE_CHECKING:
    from pgshift.config import Settings
    from pgshift.state.runs import Run


def register(subparsers: Any, parent: argparse.ArgumentParser) -> None:
    text = ("the runs that changed the database, newest first: who ran what from where, when, "
            "how it ended, and the migrations it applied or rolled back (the history keeps only "
            "what is applied now)")
    p = subparsers.add_parser("log", parents=[parent], description=text,
                              help="show the runs that changed the database")
    p.add_argument("--limit", type=_limit, default=20, metavar="N",
                   help="the last N (default 20)")
    p.add_argument("--migration", metavar="V",
                   help="only the runs that ran version V (or a repeatable's file name)")
    p.add_argument("--json", action="store_true", help="JSON output")
    p.set_defaults(handler=log)


def _limit(text: str) -> int:
    """A number of runs: 1 or more, and no more than PostgreSQL's LIMIT takes (a bigint)."""
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a whole number: '{text}'") from None
    if not 1 <= value < 2**63:
        raise argparse.ArgumentTypeError(f"must be from 1 to {2**63 - 1}, not {value}")
    return value


def log(args: argparse.Namespace, settings: Settings) -> int:
    from pgshift import api

    runs = api.log(settings, limit=args.limit, migration=args.migration)
    if args.json:
        render.print_json([_as_json(run) for run in runs])
    elif not runs and args.migration is not None:  # there may be runs: none of them ran it
        print(f"No recorded run ran {args.migration}.")
    else:
        render.runs(runs)
    return 0


def _as_json(run: Run) -> dict[str, Any]:
    return {"id": run.id, "command": run.command, "status": run.status, "run_by": run.run_by,
            "machine": run.machine, "started_at": run.started_at.isoformat(),
            "finished_at": run.finished_at.isoformat() if run.finished_at else None,
            "migrations": run.migrations, "error": run.error}
