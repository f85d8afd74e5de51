"""``pgshift dump``: the schema as SQL for review, and the schema file kept after each run."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from pgshift.config import Settings


def register(subparsers: Any, parent: argparse.ArgumentParser) -> None:
    text = ("write the database's schema as SQL (pg_dump --schema-only without owners, "
            "privileges and pgshift's schema, stable across machines), then the applied "
            "migrations: to FILE, else the schema-file setting, else standard output")
    p = subparsers.add_parser("dump", parents=[parent], description=text,
                              help="write the schema as SQL, for review in version control")
    p.add_argument("-o", "--output", metavar="FILE", type=Path,
                   help="where to write it ('-': standard output)")
    p.add_argument("--embedded", action="store_true",
                   help="the schema the migrations make: apply them all on a throwaway server "
                        "(no database needed; pg-version picks its major version)")
    p.add_argument("--check", action="store_true",
                   help="write nothing: exit 1, with a diff, unless the file (-o or "
                        "schema-file) already holds the schema (for CI, after up)")
    p.set_defaults(handler=dump)


def dump(args: argparse.Namespace, settings: Settings) -> int:
    from pgshift import api

    if args.check:
        return check(api.schema_file_diff(settings, args.output, embedded=args.embedded),
                     args.output or settings.schema_file, embedded=args.embedded)
    target = args.output or settings.schema_file
    if target is not None and str(target) != "-":
        refuse_migrations_dir(target, settings)
    if target is None or str(target) == "-":
        sys.stdout.write(api.dump_migrations_schema(settings) if args.embedded
                         else api.dump_schema(settings))
        return 0
    print(f"Wrote {api.write_schema_file(settings, target, embedded=args.embedded)}.")
    return 0


def refuse_migrations_dir(target: Path, settings: Settings) -> None:
    """InputError for a schema file among the migrations: every later run would refuse the
    directory (a .sql file that is no migration), this one included."""
    from pgshift.errors import InputError

    if target.suffix == ".sql" and target.resolve().parent == settings.dir.resolve():
        raise InputError("the schema file would be in the migrations directory, where every "
                         "file named .sql must be a migration", path=target,
                         hint="write it beside the directory, e.g. db/schema.sql")


SHOWN_LINES = 40  # of a stale schema file's diff


def check(diff: list[str], path: Path, *, embedded: bool = False) -> int:
    """Print the start of ``diff``; CheckFailedError when there is one."""
    from pgshift.errors import CheckFailedError

    what = "the schema the migrations make" if embedded else "the database's schema"
    if not diff:
        print(f"OK: {path} is {what}.")
        return 0
    print("\n".join(diff[:SHOWN_LINES]))
    if len(diff) > SHOWN_LINES:
        print(f"... {len(diff) - SHOWN_LINES} more line(s)")
    # With --embedded there is no database: the hint must not send a CI job to one.
    raise CheckFailedError(f"{path} is not {what} (diff above)",
                           hint="run 'pgshift dump --embedded' and commit the file" if embedded
                           else "run 'pgshift dump' after the migrations and commit the file")


def refresh_schema_file(settings: Settings, out: Any = None) -> None:
    """After a run that changed the database: rewrite the ``schema-file``, if one is set, and
    say so on ``out`` (standard output by default).

    The migrations have run by then, so a dump that fails is a warning, not the run's error.
    """
    if settings.schema_file is None:
        return
    from pgshift import api
    from pgshift.errors import PgshiftError

    try:
        refuse_migrations_dir(settings.schema_file, settings)
        print(f"Wrote {api.write_schema_file(settings)}.", file=out or sys.stdout)
    except PgshiftError as exc:
        print(f"pgshift: warning: the migrations ran, but {settings.schema_file} was not "
              f"rewritten: {exc.message}", file=sys.stderr)
