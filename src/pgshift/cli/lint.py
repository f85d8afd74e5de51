"""``pgshift lint``: check migrations for operations that lock or break a running app."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from pgshift.config import Settings

CACHE_DIR = ".pgshift-cache"  # only when Settings come without a cache_dir (config.load sets one)


def _rule_list(value: str) -> frozenset[str]:
    return frozenset(item.strip() for item in value.split(",") if item.strip())


def register(subparsers: Any, parent: argparse.ArgumentParser | None = None) -> None:
    # Here --schema is a schema file, not pgshift's own schema: resolve the clash on a private
    # copy of the global options (resolving on the shared parent would break other commands).
    from pgshift.cli.main import global_options

    parser = subparsers.add_parser(
        "lint",
        parents=[global_options()] if parent is not None else [],
        conflict_handler="resolve",
        help="check migrations for locks and changes that break the running app",
        description="Check migration SQL with PostgreSQL's parser for operations that lock "
        "tables or break the running app. Exit 0 clean, 1 error findings, 2 could not lint.",
    )
    parser.add_argument("paths", nargs="*", type=Path, metavar="PATH",
                        help="files or directories (default: the migrations directory)")
    parser.add_argument("--format", choices=("text", "json", "sarif", "github"), default="text",
                        help="output format (github: workflow annotations)")
    parser.add_argument("--json", dest="format", action="store_const", const="json",
                        help="the same as --format json (as other commands take it)")
    parser.add_argument("--pg-version", type=int, metavar="N",
                        help="PostgreSQL major version of the server (default: from --database, "
                        "else the config, else 15)")
    parser.add_argument("--schema", dest="schema_file", type=Path, metavar="FILE",
                        help="existing schema as SQL (e.g. pg_dump --schema-only output)")
    parser.add_argument("--database", metavar="URL",
                        help="read the existing schema and row counts from this database")
    parser.add_argument("--runner", choices=("pgshift", "psql"), default=None,
                        help="how the files run: pgshift (a transaction per file, lock_timeout "
                        "set) or psql (only explicit BEGIN/COMMIT, no timeouts)")
    parser.add_argument("--select", type=_rule_list, metavar="RULE,…",
                        help="run exactly these rules ('all', 'default', 'tier-b' are groups)")
    parser.add_argument("--ignore", type=_rule_list, metavar="RULE,…", help="skip these rules")
    parser.add_argument("--explain", metavar="RULE", help="print a rule's documentation "
                        "('all' lists the rules) and exit")
    parser.add_argument("--no-cache", action="store_true",
                        help="do not read or write the result cache ($XDG_CACHE_HOME/pgshift)")
    parser.add_argument("--jobs", type=int, metavar="N", help="worker processes (default: CPUs)")
    parser.set_defaults(handler=run)


def run(args: argparse.Namespace, settings: Settings) -> int:
    from pgshift.errors import InputError
    from pgshift.lint import LintOptions, lint_paths
    from pgshift.lint.formats import explain, render
    from pgshift.lint.rule import all_rules

    if args.explain:
        if args.explain != "all" and args.explain not in all_rules():
            raise InputError(f"unknown rule '{args.explain}'",
                             hint="'pgshift lint --explain all' lists the rules")
        sys.stdout.write(explain(args.explain) + ("\n" if args.explain == "all" else ""))
        return 0
    database = args.database or settings.lint_database
    pg_version = args.pg_version or settings.pg_version
    if pg_version is None and database:
        pg_version = _server_major(database)
    options = LintOptions(
        pg_version=pg_version or 15,
        runner=args.runner or settings.lint_runner or "pgshift",
        select=args.select if args.select is not None else (
            frozenset(settings.lint_select) or None),
        ignore=(args.ignore or frozenset()) | frozenset(settings.lint_ignore),
        schema_file=args.schema_file or settings.lint_schema,
        database_url=database,
        lock_timeout=settings.lock_timeout,
        cache_dir=None if args.no_cache else settings.cache_dir or Path(CACHE_DIR),
        jobs=args.jobs,
        placeholders=tuple(sorted(settings.placeholders.items())),
    )
    paths = args.paths or [settings.dir]
    # The migrations directory is checked as up reads it, whatever its flavor.
    report = lint_paths(paths, options, migrations_dir=settings.dir, flavor=settings.flavor)
    sys.stdout.write(render(report, args.format))
    return report.exit_code


def _server_major(url: str) -> int:
    from pgshift.config import Settings
    from pgshift.db import connect

    conn = connect(Settings(), url=url, application_name="pgshift lint")
    try:
        return int(conn.server_version) // 10000
    finally:
        conn.close()
