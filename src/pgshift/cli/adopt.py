"""``pgshift adopt --from TOOL``: take over a database another migration tool has been running."""

from __future__ import annotations

import argparse
import sys
from typing import TYPE_CHECKING, Any

from pgshift.cli import render

if TYPE_CHECKING:
    from pgshift.adopt import AdoptResult
    from pgshift.config import Settings

TOOLS = ("flyway", "node-pg-migrate", "dbmate", "golang-migrate", "pgmigrate")


def register(subparsers: Any, parent: argparse.ArgumentParser) -> None:
    text = ("record in pgshift's history what another tool applied (its history table is "
            "read, never changed; files and Flyway checksums are verified first)")
    p = subparsers.add_parser("adopt", parents=[parent], help="take over from another tool: "
                              "copy its applied set into pgshift's history", description=text)
    p.add_argument("--from", dest="tool", required=True, choices=TOOLS, metavar="TOOL",
                   help=f"the tool: {', '.join(TOOLS)}")
    p.add_argument("--table", metavar="[SCHEMA.]TABLE",
                   help="its history table, if not the default (flyway_schema_history, "
                        "pgmigrations, schema_migrations, public.schema_version)")
    p.add_argument("--dry-run", action="store_true", help="show what would be recorded")
    p.add_argument("--json", action="store_true", help="JSON output")
    p.set_defaults(handler=adopt)


def adopt(args: argparse.Namespace, settings: Settings) -> int:
    from pgshift import api

    result = api.adopt(settings, args.tool, table=args.table, dry_run=args.dry_run)
    if args.json:
        render.print_json(result_json(result))
    else:
        print_result(result, flavor_set=settings.flavor == result.flavor)
    return 0


def result_json(result: AdoptResult) -> dict[str, Any]:
    def names(items: list) -> list[str]:
        return [m.name for m in items]

    return {"tool": result.tool, "table": result.table, "flavor": result.flavor,
            "dry_run": result.dry_run, "recorded": names(result.recorded),
            "already_recorded": names(result.already), "stale_repeatables": names(result.stale),
            "pending": names(result.pending), "out_of_order": names(result.out_of_order),
            "withdrawn": names(result.withdrawn)}


def print_result(result: AdoptResult, out: Any = None, *, flavor_set: bool = False) -> None:
    """The adoption in words; ``flavor_set``: the configuration names the flavor already."""
    out = out or sys.stdout  # looked up now: a default bound at import goes stale under capture
    verb = "Would record" if result.dry_run else "Recorded"
    out.write(f"{verb} {len(result.recorded)} migration(s) applied by {result.tool} "
              f"(from {result.table}) as applied in pgshift's history.\n")
    for migration in result.recorded:
        out.write(f"  {migration.label:>16}  {migration.description}\n")
    if result.already:
        out.write(f"{len(result.already)} already recorded by pgshift: left as they are.\n")
    if result.withdrawn:
        verb = "would be" if result.dry_run else "were"
        out.write(f"{len(result.withdrawn)} adopted before and undone by {result.tool} since "
                  f"({', '.join(m.label for m in result.withdrawn)}): their rows {verb} "
                  "removed.\n")
    for migration in result.stale:
        out.write(f"  {migration.name} changed since {result.tool} applied it: "
                  "'pgshift up' re-applies it.\n")
    if result.pending:
        out.write(f"{len(result.pending)} migration(s) not applied yet: run 'pgshift up'.\n")
    if result.out_of_order:
        late = result.out_of_order
        shown = ", ".join(m.label for m in late[:5]) + (f" and {len(late) - 5} more"
                                                       if len(late) > 5 else "")
        out.write(f"{len(late)} of them older than an applied version ({shown}): "
                  "'pgshift up' refuses them unless given --out-of-order.\n")
    if result.flavor != result.detected_flavor and not flavor_set:
        out.write(f"Files are read as {result.flavor}'s: keep flavor = \"{result.flavor}\" in "
                  "pgshift.toml for the commands that follow.\n")
    if result.dry_run:
        out.write("Dry run: nothing was changed.\n")
