"""``pgshift doctor``: whether migrations can run here, one line per check."""

from __future__ import annotations

import argparse
from typing import TYPE_CHECKING, Any

from pgshift.cli import render

if TYPE_CHECKING:
    from pgshift.config import Settings

_MARKS = {"ok": "ok  ", "warn": "warn", "fail": "FAIL"}


def register(subparsers: Any, parent: argparse.ArgumentParser) -> None:
    text = ("check that migrations can run on the database and say what would slow or stop "
            "them: connection, privileges, pooler, files against history, the last run, the "
            "migration lock, long transactions, pg_stat_statements (reads only; exit 1 on any "
            "failure)")
    p = subparsers.add_parser("doctor", parents=[parent], description=text,
                              help="check that migrations can run here")
    p.add_argument("--json", action="store_true", help="JSON output")
    p.set_defaults(handler=doctor)


def doctor(args: argparse.Namespace, settings: Settings) -> int:
    from pgshift import api

    checks = api.doctor(settings)
    if args.json:
        render.print_json([{"check": c.name, "status": c.status, "detail": c.detail}
                           for c in checks])
    else:
        width = max(len(c.name) for c in checks)
        for check in checks:
            print(f"{_MARKS[check.status]}  {check.name:<{width}}  {check.detail}")
    return 1 if any(c.status == "fail" for c in checks) else 0
