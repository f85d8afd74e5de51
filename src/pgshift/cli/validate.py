"""``pgshift validate``: applied files against the history and, with ``--schema-drift``, the
database's schema against what its applied migrations make."""

from __future__ import annotations

import argparse
import sys
from typing import TYPE_CHECKING, Any

from pgshift.cli import render
from pgshift.cli.commands import add_embedded_argument, refuse_lone_embedded

if TYPE_CHECKING:
    from pgshift.config import Settings


def register(subparsers: Any, parent: argparse.ArgumentParser) -> None:
    text = "check applied files against the history (exit 3 on drift)"
    p = subparsers.add_parser("validate", parents=[parent], help=text, description=text,
                              formatter_class=parent.formatter_class)
    p.set_defaults(handler=validate)
    p.add_argument("--json", action="store_true", help="JSON output")
    p.add_argument("--schema-drift", action="store_true",
                   help="also compare the database's schema with what its applied migrations "
                        "make, replayed on a scratch database: finds changes made by hand")
    add_embedded_argument(p, "--schema-drift")


def validate(args: argparse.Namespace, settings: Settings) -> int:

    from pgshift import api
    from pgshift.errors import DriftError

    refuse_lone_embedded(args, args.schema_drift)
    try:
        if args.schema_drift:
            progress = None if args.json else _to_stderr
            drift = api.schema_drift(settings, embedded=args.embedded, progress=progress)
            applied = len(drift.replayed)
        else:
            drift, applied = None, len(api.validate(settings).applied())
    except DriftError:
        if args.json:  # what validate saw: every file read, none from the discovery cache
            plan = api.status(settings.with_overrides(discovery_cache=False))
            render.print_json({"ok": False,
                               "drift": [render.plan_item_json(i) for i in plan.drift()]})
        raise
    if args.json:
        report: dict[str, Any] = {"ok": drift is None or drift.ok, "drift": []}
        if drift is not None:
            report["schema"] = {"differences": drift.differences, "notes": drift.order_notes,
                                "replayed": drift.replayed, "scratch": drift.scratch}
        render.print_json(report)
    else:
        print(f"OK: {applied} applied migration(s) match their files.")
        if drift is not None:
            render.schema_drift(drift)
    if drift is not None and not drift.ok:
        raise DriftError(
            f"the schema differs from what its applied migrations make: "
            f"{len(drift.differences)} difference(s)",
            hint="a change made outside migrations: write a migration that makes it, or undo it")
    return 0


def _to_stderr(text: str) -> None:
    print(text, file=sys.stderr, flush=True)
