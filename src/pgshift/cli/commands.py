"""The migrate verbs: up, down, redo and status/ls, with the progress a run prints.

The other verbs have modules of their own (create, validate, history_edits, demo...); this one
is what ``status`` and ``up`` import, so it holds their code and no more."""

from __future__ import annotations

import argparse
import sys
import time
from collections.abc import Callable, Collection
from typing import TYPE_CHECKING, Any

from pgshift.cli import render

if TYPE_CHECKING:
    from pgshift.config import Settings
    from pgshift.migrations.model import Migration
    from pgshift.monitor.blockers import BlockerWatch
    from pgshift.plan import Plan
    from pgshift.runner import Outcome
    from pgshift.state.lock import LockHolder


def register(subparsers: Any, parent: argparse.ArgumentParser,
             only: Collection[str] | None = None) -> None:
    """Register the migrate verbs, or (given ``only``, names or aliases) just those: a run
    builds the parser of its own command alone."""

    def add(name: str, handler: Any, help: str, aliases: tuple[str, ...] = ()) -> Any:
        parser = subparsers.add_parser(
            name, parents=[parent], help=help, description=help, aliases=list(aliases),
            formatter_class=parent.formatter_class,
        )
        parser.set_defaults(handler=handler)
        return parser

    for name, add_parser in _PARSERS.items():
        if only is None or name in only or (name == "status" and "ls" in only):
            add_parser(add)


def _up_parser(add: Any) -> None:
    p = add("up", up, "apply pending migrations")
    p.add_argument("--to", metavar="V", help="stop after version V")
    p.add_argument("--dry-run", action="store_true", help="print the plan and SQL; change nothing")
    p.add_argument("--json", action="store_true",
                   help="JSON output: what ran (the plan with --dry-run, the summary with "
                        "--all-targets); progress to stderr")
    _script_argument(p)
    add_embedded_argument(p, "--script", what="plan the script without the target,")
    p.add_argument("--after", metavar="V",
                   help="with --script --embedded: the migrations after V (those the target "
                        "has are applied on the throwaway server first)")
    p.add_argument(
        "--single-transaction",
        action="store_true",
        default=None,
        help="run all pending transactional migrations in one transaction",
    )
    p.add_argument("--out-of-order", action="store_true", help="apply older pending versions")
    p.add_argument(
        "--unsafe",
        action="store_true",
        default=None,
        help="apply despite lint findings at error severity (and pg_stat_statements evidence)",
    )
    p.set_defaults(setting_flags=("single_transaction", "unsafe"))
    p.add_argument("--phase", choices=("expand",),
                   help="apply only what is safe before the deploy: stop at the first contract "
                        "migration")
    p.add_argument("--allow-contract", action="store_true",
                   help="let a contract migration run with the expand migrations it depends on")
    from pgshift.cli.targets import add_fleet_options

    add_fleet_options(p, up=True)
    from pgshift.cli.monitor import add_cancel_blockers

    add_cancel_blockers(p)


def _down_parser(add: Any) -> None:
    p = add("down", down, "roll back migrations (default: the last one)")
    which = p.add_mutually_exclusive_group()
    which.add_argument("--steps", type=int, metavar="N", help="roll back the last N")
    which.add_argument("--to", metavar="V", help="roll back everything above version V")
    which.add_argument("--all", action="store_true", help="roll back every migration")
    p.add_argument("--dry-run", action="store_true", help="print the plan and SQL; change nothing")
    p.add_argument("--json", action="store_true",
                   help="JSON output: what ran (the plan with --dry-run); progress to stderr")
    _script_argument(p)


def _script_argument(p: argparse.ArgumentParser) -> None:
    p.add_argument("--script", metavar="FILE",
                   help="write the run as a psql script for a DBA to apply ('-' for stdout); "
                        "change nothing")


def _redo_parser(add: Any) -> None:
    add("redo", redo, "roll back the last migration and apply it again")


def _status_parser(add: Any) -> None:
    p = add("status", status, "show every migration and its state", aliases=("ls",))
    p.add_argument("--json", action="store_true", help="JSON output")
    p.add_argument("--exit-code", action="store_true",
                   help="exit 1 when up has something to run (pending, failed or "
                        "interrupted migrations), 3 on drift: for deploy scripts (with "
                        "--all-targets: over every target, 2 when one cannot be read)")
    from pgshift.cli.targets import add_fleet_options

    add_fleet_options(p, up=False)


def add_embedded_argument(p: argparse.ArgumentParser, goes_with: str,
                          what: str = "replay") -> None:
    """``--embedded``: work on a throwaway server (what the command replays or plans there)."""
    where = ("" if what != "replay" else ", not in a scratch database on the target's")
    p.add_argument("--embedded", action="store_true",
                   help=f"with {goes_with}: {what} on a throwaway server{where}")
    p.set_defaults(embedded_goes_with=goes_with)


def refuse_lone_embedded(args: argparse.Namespace, given_with: bool) -> None:
    """InputError for ``--embedded`` without the option it goes with."""
    if args.embedded and not given_with:
        from pgshift.errors import InputError

        raise InputError(f"--embedded goes with {args.embedded_goes_with}",
                         hint=f"add {args.embedded_goes_with}, or leave --embedded out")


class _Progress:
    """Prints each migration as it runs: start, retries, notes and its duration."""

    def __init__(self, out: Any = None) -> None:
        self.out = out or sys.stdout  # looked up now: a default bound at import goes stale
        self.count = 0
        self.open_line = False  # a "Applying … ... " line waits for its result
        self.open_label = ""  # whose

    def __call__(self, kind: str, migration: Migration, info: dict[str, Any]) -> None:
        verb = "Applying" if info.get("direction", "up") == "up" else "Reverting"
        if kind == "start" and info.get("attempt", 1) == 1:
            if self.open_line:  # one transaction for several (--single-transaction)
                self.out.write("\n")
            self.out.write(f"{verb} {migration.label} {migration.description} ... ")
            self.open_label = migration.label
            self.out.flush()
            self.open_line = True
        elif kind == "retry":
            self.out.write(
                f"\n  lock timeout ({info['error']}); retry {info['attempt']} "
                f"in {info['wait']:.1f}s ... "
            )
            self.out.flush()
        elif kind == "note":
            self.out.write(f"\n  {info['text']} ... ")
        elif kind == "done":
            self.count += 1
            took = render.duration_text(info["duration_ms"])
            shared = info.get("shared_by", 1)  # downs sent together: their average
            note = f" (average of {shared} in one round trip)" if shared > 1 else ""
            if not self.open_line or self.open_label != migration.label:
                # Its line was closed by the next one's: all commit together, then report.
                self.out.write(("\n" if self.open_line else "") + f"  {migration.label} ")
            self.out.write(f"done in {took}{note}\n")
            self.out.flush()
            self.open_line = False

    def fail(self) -> None:
        if self.open_line:
            self.out.write("FAILED\n")
            self.out.flush()
            self.open_line = False


class _BlockerWatch:
    """``progress``, and the watch that reports who blocks the running migration.

    The watch (and its threading) is set up with the first migration: an up with nothing to
    do, the common case, does without.
    """

    def __init__(self, settings: Settings, progress: _Progress, cancel: str | None) -> None:
        self.settings, self.progress, self.cancel = settings, progress, cancel
        self._watch: BlockerWatch | None = None
        self._chained: Any = None

    def __enter__(self) -> _BlockerWatch:
        return self

    def __exit__(self, *exc: object) -> None:
        if self._watch is not None:
            self._watch.close()

    def __call__(self, kind: str, migration: Migration, info: dict[str, Any]) -> None:
        if self._watch is None:
            from pgshift.cli.monitor import blocker_watch

            self._watch = blocker_watch(self.settings, self.progress, self.cancel)
            self._chained = self._watch.chain(self.progress)
        self._chained(kind, migration, info)


def _lock_wait_notice(holder: LockHolder | None) -> None:
    who = holder.describe() if holder else "another session"
    print(f"Waiting for the migration lock held by {who} ...", file=sys.stderr, flush=True)


def _refuse_script_options_alone(args: argparse.Namespace) -> None:
    """InputError for up's ``--embedded`` without ``--script``, or ``--after`` without both."""
    refuse_lone_embedded(args, bool(args.script))
    if args.after is not None and not args.embedded:
        from pgshift.errors import InputError

        raise InputError("--after goes with --script --embedded",
                         hint="e.g. 'pgshift up --script deploy.sql --embedded --after V'")


def up(args: argparse.Namespace, settings: Settings) -> int:
    _refuse_script_options_alone(args)
    if args.script:
        from pgshift.cli.script import write_script

        return write_script(args, settings, "up", to=args.to, out_of_order=args.out_of_order,
                            phase=args.phase, allow_contract=args.allow_contract,
                            embedded=args.embedded, after=args.after)
    if getattr(args, "all_targets", False):
        from pgshift.cli.targets import up_all

        return up_all(args, settings)
    from pgshift import api

    progress = _Progress(sys.stderr if args.json else sys.stdout)  # JSON alone on stdout
    started = time.perf_counter()
    try:
        with _BlockerWatch(settings, progress, args.cancel_blockers) as watch:
            result = api.up(
                settings,
                to=args.to,
                dry_run=args.dry_run,
                out_of_order=args.out_of_order,
                on_event=watch,
                on_lock_wait=_lock_wait_notice,
                phase=args.phase,
                allow_contract=args.allow_contract,
            )
    except BaseException:
        progress.fail()
        raise
    if result.dry_run:
        _show_dry_run(args, settings, result.selected, "up")
    elif args.json:
        _show_run_json(result.outcomes, "up", started)
        if result.outcomes:
            _refresh_schema_file(settings, json_output=True)
    elif not result.outcomes:
        head = result.plan.applied()
        print(
            f"Nothing to apply: database is up to date (at {head[-1].version})."
            if head
            else "Nothing to apply."
        )
    else:
        elapsed = render.duration_text((time.perf_counter() - started) * 1000)
        print(f"Applied {len(result.outcomes)} migration(s) in {elapsed}.")
        _refresh_schema_file(settings)
    return 0


def down(args: argparse.Namespace, settings: Settings) -> int:
    if args.script:
        from pgshift.cli.script import write_script

        return write_script(args, settings, "down", steps=args.steps, to=args.to,
                            everything=args.all)
    from pgshift import api

    progress = _Progress(sys.stderr if args.json else sys.stdout)
    started = time.perf_counter()
    try:
        result = api.down(
            settings,
            steps=args.steps,
            to=args.to,
            everything=args.all,
            dry_run=args.dry_run,
            on_event=progress,
            on_lock_wait=_lock_wait_notice,
        )
    except BaseException:
        progress.fail()
        raise
    if result.dry_run:
        _show_dry_run(args, settings, result.selected, "down")
    elif args.json:
        _show_run_json(result.outcomes, "down", started)
        if result.outcomes:
            _refresh_schema_file(settings, json_output=True)
    elif not result.outcomes:
        print("Nothing to roll back.")
    else:
        print(f"Rolled back {len(result.outcomes)} migration(s).")
        _refresh_schema_file(settings)
    return 0


def _show_run_json(outcomes: list[Outcome], direction: str, started: float) -> None:
    """What a run did, for tools: each migration with its duration and attempts."""

    elapsed = (time.perf_counter() - started) * 1000
    render.print_json(render.run_json(outcomes, direction, elapsed))


def _show_dry_run(args: argparse.Namespace, settings: Settings, selected: list[Migration],
                  direction: str) -> None:
    """The plan, its table locks and its SQL: as text, or as JSON with ``--json``."""
    from pgshift import api
    from pgshift.locked_run import directory_callbacks
    from pgshift.placeholders import secret_values

    locks = api.plan_locks(settings, selected, direction) if selected else None
    secrets = secret_values(settings.placeholders)
    callbacks = directory_callbacks(settings)
    if args.json:

        render.print_json(render.dry_run_json(selected, direction, locks, secrets=secrets,
                                      callbacks=callbacks))
    else:
        render.dry_run(selected, direction, locks=locks, secrets=secrets, callbacks=callbacks)


def redo(args: argparse.Namespace, settings: Settings) -> int:
    from pgshift import api

    progress = _Progress()
    try:
        api.redo(settings, on_event=progress)
    except BaseException:
        progress.fail()
        raise
    _refresh_schema_file(settings)
    return 0


def _refresh_schema_file(settings: Settings, *, json_output: bool = False) -> None:
    """Rewrite the schema file, if one is set, saying so on stdout (stderr when stdout has
    JSON to itself)."""
    if settings.schema_file is not None:  # the module is not imported on the common path
        from pgshift.cli.dump import refresh_schema_file

        refresh_schema_file(settings, out=sys.stderr if json_output else sys.stdout)


def status(args: argparse.Namespace, settings: Settings) -> int:
    if getattr(args, "all_targets", False):
        from pgshift.cli.targets import status_all

        return status_all(args, settings)
    from pgshift import api

    if args.json:
        plan = api.status(settings)
        render.status(plan, as_json=True)
        return _status_exit_code(plan) if args.exit_code else 0
    from pgshift.cli.backfill import print_backfills

    report = api.status_report(settings)
    render.status(report.plan, as_json=False)
    print_backfills(report.backfills)
    return _status_exit_code(report.plan) if args.exit_code else 0


def _status_exit_code(plan: Plan) -> int:
    """3 on what validate calls drift (an interrupted down or a part-way file made
    transactional too, which up refuses), 1 when up has work (as dbmate's ``status
    --exit-code``)."""
    from pgshift.errors import DriftError
    from pgshift.plan import refuse_drift

    try:
        refuse_drift(plan, allow_out_of_order=False)
    except DriftError:
        return 3
    return 1 if plan.pending() or plan.interrupted() else 0


# In the order `pgshift --help` lists them.
_PARSERS: dict[str, Callable[[Any], None]] = {
    "up": _up_parser, "down": _down_parser, "redo": _redo_parser, "status": _status_parser,
}
