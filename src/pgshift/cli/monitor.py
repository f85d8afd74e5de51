"""Watch and rescue: ``ps``/``monitor``, ``kill`` and the emergency ``rollback``."""

from __future__ import annotations

import argparse
import sys
import time
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from pgshift.config import Settings
    from pgshift.monitor.blockers import Blocker, BlockerWatch
    from pgshift.monitor.kill import KillResult
    from pgshift.monitor.progress import Progress
    from pgshift.monitor.rollback import RollbackPlan

NEXT_STEPS = """Next steps:
  1. Deploy the application version that matches version {target} (the schema is there now).
  2. Investigate and fix the migration(s) rolled back; 'pgshift status' shows where you are.
  3. Test the fix on staging: 'pgshift verify' runs up, down and up again on a scratch copy.
  4. Re-deploy with the fixed migration."""


def register(subparsers: Any, parent: argparse.ArgumentParser) -> None:
    def add(name: str, handler: Any, help: str, aliases: tuple[str, ...] = ()) -> Any:
        parser = subparsers.add_parser(name, parents=[parent], help=help, description=help,
                                       aliases=list(aliases))
        parser.set_defaults(handler=handler)
        return parser

    p = add("ps", ps, "show running migrations, DDL, locks, blockers and progress",
            aliases=("monitor",))
    p.add_argument("--json", action="store_true", help="print one snapshot as JSON")
    p.add_argument("--watch", action="store_true", help="refresh live until Ctrl-C")
    p.add_argument("--interval", type=_interval, metavar="S",
                   help="seconds between refreshes with --watch (default 2)")
    p.add_argument("--count", type=_positive, metavar="N",
                   help="with --watch: stop after N refreshes")

    p = add("kill", kill, "cancel (or terminate) a migration or DDL session")
    p.add_argument("pid", type=int, nargs="?", help="the backend pid ('pgshift ps' shows it)")
    p.add_argument("--terminate", action="store_true",
                   help="end the session (pg_terminate_backend) instead of cancelling its "
                        "statement")
    p.add_argument("--grace", type=_duration, metavar="S",
                   help="terminate if the cancel has no effect within S (e.g. 10s)")
    p.add_argument("--force", action="store_true",
                   help="also act on a session that is neither a migration nor DDL")
    p.add_argument("--stuck", action="store_true",
                   help="act on every migration or DDL session older than --older-than")
    p.add_argument("--older-than", type=_duration, metavar="D",
                   help="with --stuck: age limit (default: the migration budget, --timeout)")

    p = add("rollback", rollback, "emergency rollback: plan, confirm, roll back to version V")
    p.add_argument("--to", required=True, metavar="V", help="the version to go back to (0: all)")
    p.add_argument("--yes", action="store_true", help="do not ask for confirmation")
    p.add_argument("--dry-run", action="store_true",
                   help="print the plan, with its checks, and stop: roll back nothing")
    add_cancel_blockers(p)


def add_cancel_blockers(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--cancel-blockers", choices=["idle-in-transaction"], metavar="WHICH",
        help="'idle-in-transaction': end (pg_terminate_backend) sessions idle in a "
             "transaction that block the migration")


def _duration(text: str) -> float:
    from pgshift.config import parse_duration

    try:
        return parse_duration(text)
    except ValueError as exc:
        raise argparse.ArgumentTypeError(str(exc)) from None


# -- ps -----------------------------------------------------------------------------------------


def ps(args: argparse.Namespace, settings: Settings) -> int:
    from pgshift import api
    from pgshift.cli import activity_view
    from pgshift.errors import InputError

    if args.watch and args.json:
        raise InputError("--json prints one snapshot: it does not go with --watch",
                         hint="repeat 'pgshift ps --json' to follow it from a script")
    if not args.watch and (args.interval is not None or args.count is not None):
        flag = "--interval" if args.interval is not None else "--count"
        raise InputError(f"{flag} goes with --watch",
                         hint=f"e.g. 'pgshift ps --watch {flag} {args.interval or args.count:g}'")
    if args.watch:
        return _watch(settings, args.interval or 2.0, args.count)
    snapshot = api.ps(settings)
    if args.json:
        activity_view.dump_json(snapshot, sys.stdout)
    else:
        activity_view.print_snapshot(snapshot, sys.stdout)
    return 0


def _interval(text: str) -> float:
    """Seconds between refreshes: a finite number from 0.1 s to a day."""
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a number of seconds: '{text}'") from None
    if not 0.1 <= value <= 86_400:  # NaN fails both comparisons
        raise argparse.ArgumentTypeError(f"--interval must be from 0.1 to 86400 s, not {text}")
    return value


def _positive(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a whole number: '{text}'") from None
    if value < 1:
        raise argparse.ArgumentTypeError(f"must be 1 or more, not {value}")
    return value


def _watch(settings: Settings, interval: float, count: int | None) -> int:
    from rich.live import Live

    from pgshift.cli.activity_view import watch_renderable
    from pgshift.cli.terminal import console
    from pgshift.db import connect
    from pgshift.monitor.activity import snapshot

    conn = connect(settings, application_name=f"{settings.application_name} ps")
    refreshes = 0
    try:
        with Live(console=console(), auto_refresh=False, transient=False) as live:
            while count is None or refreshes < count:
                live.update(watch_renderable(snapshot(conn, settings), interval), refresh=True)
                refreshes += 1
                if count is None or refreshes < count:
                    time.sleep(interval)
    except KeyboardInterrupt:
        pass
    finally:
        conn.close()
    return 0


# -- kill ---------------------------------------------------------------------------------------


def kill(args: argparse.Namespace, settings: Settings) -> int:
    from pgshift import api
    from pgshift.errors import InputError

    if args.stuck == (args.pid is not None):
        raise InputError("give either a PID or --stuck", hint="'pgshift ps' lists the pids")
    if args.older_than is not None and not args.stuck:
        raise InputError("--older-than goes with --stuck",
                         hint="'pgshift kill --stuck --older-than D' acts on every session "
                              "older than D; a PID names one")
    if args.stuck:
        results = api.kill_stuck(settings, older_than=args.older_than, terminate=args.terminate,
                                 grace=args.grace)
        if not results:
            from pgshift.config import DEFAULT_TIMEOUT

            limit = args.older_than if args.older_than is not None else (
                settings.timeout or DEFAULT_TIMEOUT)
            print(f"No migration or DDL session has run longer than {limit:g}s.")
        for result in results:
            print(_kill_line(result))
        return 0 if all(r.effective for r in results) else 1
    result = api.kill(settings, args.pid, terminate=args.terminate, grace=args.grace,
                      force=args.force)
    print(_kill_line(result))
    return 0 if result.effective else 1


def _kill_line(result: KillResult) -> str:
    from pgshift.cli.activity_view import role_text, statement_text

    session = result.session
    what = f"pid {result.pid} ({role_text(session)}: {statement_text(session, 50)})"
    if result.action == "cancel-ignored":
        text = f"Not cancelled: {what}"
    elif result.effective:
        text = f"{result.action.capitalize()} {what}"
    else:
        text = f"Asked to {'cancel' if result.action == 'cancelled' else 'terminate'} {what}"
    if result.note:
        text += f"; {result.note}"
    if result.effective and session.role == "migration":
        text += ". Its transaction rolled back; 'pgshift status' shows the migration's state"
    return text + "."


# -- rollback -----------------------------------------------------------------------------------


def rollback(args: argparse.Namespace, settings: Settings) -> int:
    from pgshift import api
    from pgshift.cli.commands import _lock_wait_notice, _Progress

    plan = api.rollback_plan(settings, args.to)
    _print_plan(plan, _locks_of(settings, plan))
    if not plan.steps:
        _refuse_while_running(settings, plan)
        print(f"Nothing to roll back: no applied migration above version {plan.target}.")
        return 0
    plan.check()  # an irreversible migration in the way: stop before anything runs
    if args.dry_run:
        print("Dry run: nothing was rolled back.")
        return 0
    if not args.yes and not _confirm(f"Roll back {len(plan.steps)} migration(s) to version "
                                     f"{plan.target}? [y/N] "):
        print("Aborted: nothing was rolled back.")
        return 1
    progress = _Progress()
    with blocker_watch(settings, progress, args.cancel_blockers) as watch:
        try:
            result = api.down(settings, to=args.to, on_event=watch.chain(progress),
                              on_lock_wait=_lock_wait_notice,
                              confirmed=[step.item.script for step in plan.steps])
        except BaseException:
            progress.fail()
            raise
    print(f"Rolled back {len(result.outcomes)} migration(s); the database is at version "
          f"{plan.ends_at}.\n")
    print(NEXT_STEPS.format(target=plan.ends_at))
    return 0


def _refuse_while_running(settings: Settings, plan: RollbackPlan) -> None:
    """A run holding the migration lock may be applying what is to be rolled back: "nothing
    to roll back" would be true only until it commits."""
    from pgshift import api
    from pgshift.errors import LockBusyError

    holder = api.ps(settings).migration_lock
    if holder is not None:
        raise LockBusyError(
            f"nothing applied above version {plan.target} yet, but a run holds the migration "
            f"lock (pid {holder.pid}) and may be applying migrations now; nothing was rolled "
            "back", hint="'pgshift ps' shows what it runs: wait for it to end, or 'pgshift "
                         "kill' its migration, then run the rollback again")


def _locks_of(settings: Settings, plan: RollbackPlan) -> dict[str, list[tuple[str, str]]]:
    """The table locks each down part takes; nothing when they cannot be told (an emergency
    rollback never waits on this, nor fails for it: not even for a database error of the
    lock analysis, which reads the catalog on a connection of its own)."""
    from psycopg2 import Error as DatabaseError

    from pgshift import api
    from pgshift.errors import PgshiftError

    downs = [s.item.migration for s in plan.steps if s.item.migration and not s.blocker]
    try:
        return api.plan_locks(settings, downs, "down") if downs else {}
    except (PgshiftError, DatabaseError):
        return {}


def _print_plan(plan: RollbackPlan, locks: dict[str, list[tuple[str, str]]]) -> None:
    from pgshift.cli.render import lock_lines

    if plan.steps:
        print(f"Emergency rollback from version {plan.current or '-'} to {plan.target}.")
        print("These migrations will be rolled back, in this order:")
    else:  # the target may be above where the database is: no "rollback from 004 to 006"
        print(f"Emergency rollback to version {plan.target}: the database is at version "
              f"{plan.current or '-'}.")
    for step in plan.steps:
        mode = "one transaction" if step.transactional else "no transaction"
        if step.item.entry is not None and step.item.entry.status == "reverting":
            mode += f"; {step.item.detail or 'its down stopped part-way'}: it goes on from there"
        flag = f"  CANNOT ROLL BACK: {step.blocker}" if step.blocker else ""
        print(f"  {step.label:>8}  {step.item.description}  [{mode}]{flag}")
        print("".join(lock_lines(locks.get(step.label, ()))), end="")
    for item in plan.left_alone:
        print(f"  {'V' + (item.version or '?'):>8}  {item.description}  [left alone: "
              f"{item.state}, {item.detail or 'not applied'}]")
    if plan.unapplied and plan.steps:
        labels = ", ".join(f"V{item.version} ({item.state})" for item in plan.unapplied)
        print(f"Not applied at or below version {plan.target}: {labels}; the database will be "
              f"at version {plan.ends_at}, not {plan.target}.")


def _confirm(question: str) -> bool:
    from pgshift.errors import InputError

    print(question, end="", flush=True)
    answer = sys.stdin.readline() if sys.stdin is not None else ""  # None: closed (<&-)
    if not answer:
        print()
        raise InputError("no answer on standard input: nothing was rolled back",
                         hint="pass --yes to roll back without asking")
    return answer.strip().lower() in ("y", "yes")


# -- blockers while up/down/rollback wait -------------------------------------------------------


def blocker_watch(settings: Settings, progress: Any, cancel: str | None) -> BlockerWatch:
    """A watch that prints, under the migration's progress line, who blocks it (and ends them)."""
    from pgshift.monitor.blockers import BlockerWatch

    def notice(blocker: Blocker) -> None:
        if blocker.ended:
            text = f"ended blocking session {blocker.describe()} (--cancel-blockers)"
        else:
            text = (f"blocked for {int(blocker.blocked_for_s)}s by {blocker.describe()}"
                    + ("; '--cancel-blockers idle-in-transaction' would end it"
                       if blocker.idle_in_transaction and cancel is None else ""))
        progress.out.write(f"\n  {text} ... ")
        progress.out.flush()

    def report(found: Progress) -> None:
        from pgshift.cli.activity_view import progress_text

        progress.out.write(f"\n  {progress_text(found, with_pid=False)} ... ")
        progress.out.flush()

    return BlockerWatch(settings, notice, cancel_idle=cancel == "idle-in-transaction",
                        on_progress=report)
