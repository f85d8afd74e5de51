"""``pgshift squash``: write a baseline migration that new databases run instead of the
versioned migrations it stands for (``pgshift.squash``)."""

from __future__ import annotations

import argparse
import sys
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from pgshift.config import Settings


def register(subparsers: Any, parent: argparse.ArgumentParser) -> None:
    text = ("write B{V}__NAME.sql: the database the migrations up to V build (schema and rows), "
            "replayed on a scratch database and checked there; new databases run it instead "
            "of those migrations, and databases that ran them never run it")
    p = subparsers.add_parser("squash", parents=[parent], description=text,
                              help="write a baseline migration for new databases",
                              formatter_class=parent.formatter_class)
    p.add_argument("--to", metavar="V", help="the last version it holds (default: the newest)")
    p.add_argument("--name", default="baseline",
                   help="the words after B{V}__ in its file name (default: baseline)")
    p.add_argument("--embedded", action="store_true",
                   help="replay on a throwaway server, not in a scratch database on the "
                        "configured server")
    p.set_defaults(handler=squash)


def squash(args: argparse.Namespace, settings: Settings) -> int:
    from pgshift import api

    result = api.squash(settings, to=args.to, name=args.name, embedded=args.embedded,
                        progress=lambda text: print(text, file=sys.stderr, flush=True))
    print(result.path)
    filled = (f", {len(result.tables_with_rows)} with rows" if result.tables_with_rows else "")
    count = len(result.migrations)
    span = (result.migrations[0] if count == 1
            else f"{result.migrations[0]} … {result.migrations[-1]}")
    print(f"It holds {count} migration(s), {span} "
          f"({result.tables} table(s){filled}), checked on {result.scratch}.\n"
          "New databases run it instead of them; databases that ran them never run it. Their "
          "files may be deleted once every database is past it.", file=sys.stderr)
    return 0
