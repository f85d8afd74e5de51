"""``pgshift baseline`` and ``pgshift repair``: edits of the history that run no migration."""

from __future__ import annotations

import argparse
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from pgshift.config import Settings


def register(subparsers: Any, parent: argparse.ArgumentParser) -> None:
    text = "mark migrations up to V as applied without running them"
    p = subparsers.add_parser("baseline", parents=[parent], help=text, description=text,
                              formatter_class=parent.formatter_class)
    p.set_defaults(handler=baseline)
    p.add_argument("--version", "--to", dest="version", required=True, metavar="V",
                   help="the last version to mark as applied (--to as for up, down and "
                        "rollback)")
    text = "accept changed checksums and clear failed entries"
    p = subparsers.add_parser("repair", parents=[parent], help=text, description=text,
                              formatter_class=parent.formatter_class)
    p.set_defaults(handler=repair)
    p.add_argument(
        "--remove-missing",
        action="store_true",
        help="also forget applied migrations whose file is gone",
    )


def baseline(args: argparse.Namespace, settings: Settings) -> int:
    from pgshift import api

    result = api.baseline(settings, args.version)
    print(
        f"Baselined {len(result.selected)} migration(s) up to {args.version} "
        "(recorded as applied, not run)."
    )
    return 0


def repair(args: argparse.Namespace, settings: Settings) -> int:
    from pgshift import api

    result = api.repair(settings, remove_missing=args.remove_missing)
    for name in result.accepted_checksums:
        print(f"accepted new checksum: {name}")
    for name in result.cleared:
        print(f"cleared failed entry: {name}")
        if name in result.cleared_part_way:
            print(f"  {name} stopped part-way: what its first statements made is still there; "
                  "undo it by hand before 'pgshift up' runs it again from the start")
    for name in result.removed_missing:
        print(f"forgot missing file: {name}")
    for name in result.left_part_way:
        print(f"left as it is: {name} stopped part-way through its down part; 'pgshift "
              "down' finishes it")
    if not (result.accepted_checksums or result.cleared or result.removed_missing
            or result.left_part_way):
        print("Nothing to repair.")
    return 0
