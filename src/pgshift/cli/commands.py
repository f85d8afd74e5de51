"""The core verbs: create, up, down, redo, status/ls, validate, baseline, repair, demo."""

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
    """Register the core verbs, or (given ``only``, names or aliases) just those: a run builds
    the parser of its own command alone (all nine take 2 ms to build)."""

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


def _create_parser(add: Any) -> None:
    p = add("create", create, "write the next V…__NAME.sql with up and down sections")
    p.add_argument("name", nargs="*", help="what the migration does, e.g. add_user_timezone "
                                           "or add user timezone")
    p.add_argument("--timestamp", action="store_true",
                   help="version it with the UTC time (YYYYMMDDHHMMSS) instead of the next "
                        "number; after a timestamp version this is the default")
    p.add_argument("--from-drift", action="store_true",
                   help="write the database's schema drift (changes made by hand, as "
                        "'validate --schema-drift' finds them) as this migration")
    _embedded_argument(p, "--from-drift")
    from pgshift.cli.recipes import add_recipe_arguments

    add_recipe_arguments(p)


def _up_parser(add: Any) -> None:
    p = add("up", up, "apply pending migrations")
    p.add_argument("--to", metavar="V", help="stop after version V")
    p.add_argument("--dry-run", action="store_true", help="print the plan and SQL; change nothing")
    p.add_argument("--json", action="store_true",
                   help="JSON output: what ran (the plan with --dry-run, the summary with "
                        "--all-targets); progress to stderr")
    _script_argument(p)
    _embedded_argument(p, "--script", what="plan the script without the target,")
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


def _validate_parser(add: Any) -> None:
    p = add("validate", validate, "check applied files against the history (exit 3 on drift)")
    p.add_argument("--json", action="store_true", help="JSON output")
    p.add_argument("--schema-drift", action="store_true",
                   help="also compare the database's schema with what its applied migrations "
                        "make, replayed on a scratch database: finds changes made by hand")
    _embedded_argument(p, "--schema-drift")


def _embedded_argument(p: argparse.ArgumentParser, goes_with: str,
                       what: str = "replay") -> None:
    """``--embedded``: work on a throwaway server (what the command replays or plans there)."""
    where = ("" if what != "replay" else ", not in a scratch database on the target's")
    p.add_argument("--embedded", action="store_true",
                   help=f"with {goes_with}: {what} on a throwaway server{where}")
    p.set_defaults(embedded_goes_with=goes_with)


def _refuse_lone_embedded(args: argparse.Namespace, given_with: bool) -> None:
    if args.embedded and not given_with:
        from pgshift.errors import InputError

        raise InputError(f"--embedded goes with {args.embedded_goes_with}",
                         hint=f"add {args.embedded_goes_with}, or leave --embedded out")


def _baseline_parser(add: Any) -> None:
    p = add("baseline", baseline, "mark migrations up to V as applied without running them")
    p.add_argument("--version", "--to", dest="version", required=True, metavar="V",
                   help="the last version to mark as applied (--to as for up, down and "
                        "rollback)")


def _repair_parser(add: Any) -> None:
    p = add("repair", repair, "accept changed checksums and clear failed entries")
    p.add_argument(
        "--remove-missing",
        action="store_true",
        help="also forget applied migrations whose file is gone",
    )


def _demo_parser(add: Any) -> None:
    p = add("demo", demo, "apply the example migrations on a throwaway PostgreSQL")
    p.add_argument("--keep", action="store_true", help=argparse.SUPPRESS)


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


def create(args: argparse.Namespace, settings: Settings) -> int:
    from pgshift import api
    from pgshift.errors import InputError

    _refuse_lone_embedded(args, args.from_drift)
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


def up(args: argparse.Namespace, settings: Settings) -> int:
    _refuse_lone_embedded(args, bool(args.script))
    if args.after is not None and not args.embedded:
        from pgshift.errors import InputError

        raise InputError("--after goes with --script --embedded",
                         hint="e.g. 'pgshift up --script deploy.sql --embedded --after V'")
    if args.script:
        return _write_script(args, settings, "up", to=args.to, out_of_order=args.out_of_order,
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
        return _write_script(args, settings, "down", steps=args.steps, to=args.to,
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
    import json

    elapsed = (time.perf_counter() - started) * 1000
    json.dump(render.run_json(outcomes, direction, elapsed), sys.stdout, indent=2)
    print()


def _show_dry_run(args: argparse.Namespace, settings: Settings, selected: list[Migration],
                  direction: str) -> None:
    """The plan, its table locks and its SQL: as text, or as JSON with ``--json``."""
    from pgshift import api

    locks = api.plan_locks(settings, selected, direction) if selected else None
    if args.json:
        import json

        json.dump(render.dry_run_json(selected, direction, locks), sys.stdout, indent=2)
        print()
    else:
        render.dry_run(selected, direction, locks=locks)


def _write_script(args: argparse.Namespace, settings: Settings, direction: str,
                  **selection: Any) -> int:
    """``--script FILE``: the run as a psql script (``pgshift.script``), written, not run."""
    from pgshift import api
    from pgshift.errors import InputError

    if args.dry_run or getattr(args, "all_targets", False):
        raise InputError("--script writes one database's run: it takes neither --dry-run "
                         "nor --all-targets",
                         hint="the script itself is the dry run: review it before psql runs it")
    if args.json:
        raise InputError("--script writes a psql script, not JSON: it does not take --json",
                         hint="'pgshift up --dry-run --json' gives the plan as JSON")
    script = api.script(settings, direction, **selection)  # type: ignore[arg-type]
    if not script.migrations:
        print("Nothing to apply: no script written." if direction == "up"
              else "Nothing to roll back: no script written.", file=sys.stderr)
        return 0
    if args.script == "-":
        sys.stdout.write(script.text)
    else:
        from pathlib import Path

        try:
            Path(args.script).write_text(script.text, encoding="utf-8")
        except OSError as exc:
            raise InputError(f"cannot write the script: {exc.strerror}",
                             path=Path(args.script)) from None
    flags = "".join(f" -v {name}=..." for name in script.variables)
    where = "-" if args.script == "-" else args.script
    first, last = script.migrations[0].label, script.migrations[-1].label
    span = first if first == last else f"{first} to {last}"
    print(f"Wrote the {direction} script of {len(script.migrations)} migration(s) ({span}) to "
          f"{where}; {'pipe it to' if where == '-' else 'run it with'}: "
          f"psql -X -f {where}{flags} DATABASE_URL", file=sys.stderr)
    return 0


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


def validate(args: argparse.Namespace, settings: Settings) -> int:
    import json

    from pgshift import api
    from pgshift.errors import DriftError

    _refuse_lone_embedded(args, args.schema_drift)
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
            json.dump(
                {"ok": False, "drift": [render.plan_item_json(i) for i in plan.drift()]},
                sys.stdout,
                indent=2,
            )
            print()
        raise
    if args.json:
        report: dict[str, Any] = {"ok": drift is None or drift.ok, "drift": []}
        if drift is not None:
            report["schema"] = {"differences": drift.differences, "notes": drift.order_notes,
                                "replayed": drift.replayed, "scratch": drift.scratch}
        json.dump(report, sys.stdout, indent=2)
        print()
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


def demo(args: argparse.Namespace, settings: Settings) -> int:
    from pgshift.demo import run_demo

    return run_demo(settings, keep=args.keep)


# In the order `pgshift --help` lists them.
_PARSERS: dict[str, Callable[[Any], None]] = {
    "create": _create_parser, "up": _up_parser, "down": _down_parser, "redo": _redo_parser,
    "status": _status_parser, "validate": _validate_parser, "baseline": _baseline_parser,
    "repair": _repair_parser, "demo": _demo_parser,
}
