"""``pgshift create``: write the next migration file, empty, from a recipe, or from the
database's schema drift."""

from __future__ import annotations

import argparse
import sys
from typing import TYPE_CHECKING, Any

from pgshift.cli.commands import add_embedded_argument, refuse_lone_embedded

if TYPE_CHECKING:
    from pgshift.config import Settings


def register(subparsers: Any, parent: argparse.ArgumentParser) -> None:
    text = "write the next V…__NAME.sql with up and down sections"
    p = subparsers.add_parser("create", parents=[parent], help=text, description=text,
                              formatter_class=parent.formatter_class)
    p.set_defaults(handler=create)
    p.add_argument("name", nargs="*", help="what the migration does, e.g. add_user_timezone "
                                           "or add user timezone")
    p.add_argument("--timestamp", action="store_true",
                   help="version it with the UTC time (YYYYMMDDHHMMSS) instead of the next "
                        "number; after a timestamp version this is the default")
    p.add_argument("--from-drift", action="store_true",
                   help="write the database's schema drift (changes made by hand, as "
                        "'validate --schema-drift' finds them) as this migration")
    add_embedded_argument(p, "--from-drift")
    from pgshift.cli.recipes import add_recipe_arguments

    add_recipe_arguments(p)


def create(args: argparse.Namespace, settings: Settings) -> int:
    from pgshift import api
    from pgshift.errors import InputError

    refuse_lone_embedded(args, args.from_drift)
    if args.recipe:
        from pgshift.cli.recipes import create_from_recipe

        return create_from_recipe(args, settings)
    name = " ".join(args.name)
    if not name.strip():
        raise InputError("create needs a NAME (or --recipe)",
                         hint="e.g. 'pgshift create add user timezone'")
    if args.from_drift:
        return _create_from_drift(args, settings, name)
    print(api.create(settings, name, timestamp=args.timestamp))
    return 0


def _create_from_drift(args: argparse.Namespace, settings: Settings, name: str) -> int:
    from pgshift import api

    captured = api.create_from_drift(settings, name, embedded=args.embedded,
                                     timestamp=args.timestamp, progress=_to_stderr)
    if captured is None:
        print("No schema drift: nothing to write.", file=sys.stderr)
        return 0
    print(captured.path)
    version = captured.version
    todo = (f"; {len(captured.migration.todo)} need SQL by hand (its TODO lines)"
            if captured.migration.todo else "")
    print(f"Wrote {len(captured.drift.differences)} difference(s){todo}. Review it; then record "
          f"it here with 'pgshift baseline --version {version}' (this database has the "
          "changes), and 'pgshift up' applies it everywhere else.", file=sys.stderr)
    return 0


def _to_stderr(text: str) -> None:
    print(text, file=sys.stderr, flush=True)
