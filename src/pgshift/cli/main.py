"""``pgshift`` entry point: parse arguments, run the command, turn errors into exit codes.

This is the only place that catches PgshiftError: it prints one line,
``pgshift: error: FILE:LINE: message (hint: ...)``, and exits with the error's code. A traceback
appears only with ``--debug``. Every message goes through ``redact`` first. How the line is
worded is ``cli/error_report.py``'s, imported only when something went wrong: start-up is most
of a ``status``, so this module holds what every run needs and no more.
"""

from __future__ import annotations

import argparse
import gc
import os
import signal
import sys
from collections.abc import Callable, Sequence
from importlib import import_module
from typing import Any, NoReturn

from pgshift.errors import PgshiftError

# Each module has register(subparsers); handlers import what they need when they run.
COMMAND_MODULES = (  # in the order `pgshift --help` lists their commands
    "pgshift.cli.create",
    "pgshift.cli.commands",
    "pgshift.cli.validate",
    "pgshift.cli.history_edits",
    "pgshift.cli.demo",
    "pgshift.cli.adopt",
    "pgshift.cli.completion",
    "pgshift.cli.backfill",
    "pgshift.cli.verify",
    "pgshift.cli.monitor",
    "pgshift.cli.lint",
    "pgshift.cli.dump",
    "pgshift.cli.doctor",
    "pgshift.cli.log",
    "pgshift.cli.squash",
)

# Which module registers each command (aliases included), so a run imports and builds only
# the module it needs; start-up is most of `status`. A test checks this against the modules.
COMMAND_OWNERS = {
    "create": "pgshift.cli.create",
    **dict.fromkeys(("up", "down", "redo", "status", "ls"), "pgshift.cli.commands"),
    "validate": "pgshift.cli.validate",
    **dict.fromkeys(("baseline", "repair"), "pgshift.cli.history_edits"),
    "demo": "pgshift.cli.demo",
    "adopt": "pgshift.cli.adopt",
    "completion": "pgshift.cli.completion",
    "backfill": "pgshift.cli.backfill",
    "verify": "pgshift.cli.verify",
    **dict.fromkeys(("ps", "monitor", "kill", "rollback"), "pgshift.cli.monitor"),
    "lint": "pgshift.cli.lint",
    "dump": "pgshift.cli.dump",
    "doctor": "pgshift.cli.doctor",
    "log": "pgshift.cli.log",
    "squash": "pgshift.cli.squash",
}

# The module of many commands, whose register() can build just the invoked one's parser.
SELECTIVE_MODULE = "pgshift.cli.commands"

SETTING_FLAGS = (
    "url",
    "dir",
    "schema",
    "lock_timeout",
    "lock_retries",
    "statement_timeout",
    "timeout",
    "lock_wait",
    "connect_wait",
)


class HelpFormatter(argparse.HelpFormatter):
    """argparse's own, sized as argparse sizes it but without ``import shutil``.

    argparse makes a formatter for every argument added, and its first one imports shutil
    (with zlib, bz2 and lzma: 2 ms of a 100 ms ``status``) for ``get_terminal_size``.
    """

    def __init__(self, prog: str, indent_increment: int = 2, max_help_position: int = 24,
                 width: int | None = None) -> None:
        super().__init__(prog, indent_increment, max_help_position,
                         _terminal_columns() - 2 if width is None else width)


def _terminal_columns() -> int:
    """``shutil.get_terminal_size().columns``: $COLUMNS, else the terminal's, else 80."""
    try:
        columns = int(os.environ["COLUMNS"])
    except (KeyError, ValueError):
        columns = 0
    if columns <= 0:
        try:
            columns = os.get_terminal_size(sys.__stdout__.fileno()).columns
        except (AttributeError, ValueError, OSError):
            columns = 0
    return columns or 80


class ArgumentParser(argparse.ArgumentParser):
    """argparse's parser, with its errors in pgshift's form: one line on stderr, with a hint
    (a "did you mean" for a near miss), passwords masked (an argument it did not expect may be
    a URL), exit code 2."""

    def error(self, message: str, hint: str | None = None) -> NoReturn:
        command = self.prog.removeprefix("pgshift").strip()
        hint = hint or (f"'pgshift {command + ' ' if command else ''}--help' lists what it "
                        "takes")
        _print_error(f"{command + ': ' if command else ''}{message} (hint: {hint})", None)
        sys.exit(2)

    def parse_args(self, args: Sequence[str] | None = None,  # type: ignore[override]
                   namespace: argparse.Namespace | None = None) -> argparse.Namespace:
        """As argparse's, but arguments nobody took are reported by the command's parser
        (whose help lists what it takes), with the nearest option it has."""
        parsed, extra = self.parse_known_args(args, namespace)
        if extra:
            from pgshift.cli.error_report import unrecognized

            unrecognized(_command_parser(self, getattr(parsed, "command", None)), extra)
        return parsed

    def _check_value(self, action: argparse.Action, value: Any) -> None:
        if action.choices is not None and value not in action.choices:
            from pgshift.cli.error_report import invalid_choice

            invalid_choice(self, action, value)
        super()._check_value(action, value)


def _command_parser(parser: argparse.ArgumentParser, command: str | None
                    ) -> ArgumentParser:
    """The parser of ``command`` (a name or an alias), else ``parser`` itself."""
    for action in parser._actions:
        if isinstance(action, argparse._SubParsersAction) and command in action.choices:
            found = action.choices[command]
            if isinstance(found, ArgumentParser):
                return found
    assert isinstance(parser, ArgumentParser)
    return parser


def global_options() -> argparse.ArgumentParser:
    """Options every command accepts, before or after the command name."""
    parent = argparse.ArgumentParser(add_help=False, argument_default=argparse.SUPPRESS,
                                     formatter_class=HelpFormatter)
    group = parent.add_argument_group("global options")
    group.add_argument("--url", help="database URL (else PGSHIFT_URL, DATABASE_URL, PG* variables)")
    group.add_argument("--dir", help="migrations directory (default: migrations)")
    group.add_argument(
        "--config",
        help="config file (default: nearest pgshift.toml or [tool.pgshift] in pyproject.toml)",
    )
    group.add_argument("--schema", help="pgshift's own schema (default: pgshift)")
    group.add_argument("--lock-timeout", help="lock_timeout per statement (default 500ms)")
    group.add_argument("--lock-retries", help="retries after a lock timeout (default 10)")
    group.add_argument("--statement-timeout", help="statement_timeout (default: the budget)")
    group.add_argument("--timeout", help="budget per migration (default 10m)")
    group.add_argument("--lock-wait", help="how long to wait for another runner (default 60s)")
    group.add_argument("--connect-wait", help="how long to wait for a database server that is "
                                              "not accepting connections yet (default 0: none)")
    group.add_argument("--debug", action="store_true", help="show tracebacks")
    return parent


def _invoked(argv: Sequence[str] | None) -> set[str] | None:
    """The command names in ``argv`` (one is the command; another may be an option's value),
    or None when the whole parser is wanted: for help, or when no command is named."""
    if argv is None or any(arg in ("-h", "--help") for arg in argv):
        return None
    return {arg for arg in argv if arg in COMMAND_OWNERS} or None


def _modules_for(invoked: set[str] | None) -> Sequence[str]:
    """The command modules to register: only the invoked command's, when it is clear."""
    if invoked is None:
        return COMMAND_MODULES
    owners = {COMMAND_OWNERS[name] for name in invoked}
    return [m for m in COMMAND_MODULES if m in owners]


def build_parser(argv: Sequence[str] | None = None) -> argparse.ArgumentParser:
    """The full parser, or (given ``argv``) one with just the invoked command's module."""
    parent = global_options()
    parser = ArgumentParser(  # its subparsers are of its class
        prog="pgshift",
        parents=[parent],
        formatter_class=HelpFormatter,
        description="Zero-downtime PostgreSQL schema migrations.",
        epilog="Exit codes: 0 ok, 1 lint/check failed, 2 bad input or config, 3 drift, "
        "4 lock busy, 5 migration failed (rolled back), 70 internal error, "
        "130/143 interrupted (SIGINT/SIGTERM).",
    )
    from pgshift import __version__

    parser.add_argument("-V", "--version", action="version", version=f"pgshift {__version__}",
                        help="print pgshift's version and exit")
    subparsers = parser.add_subparsers(dest="command", metavar="COMMAND")
    subparsers.required = True
    invoked = _invoked(argv)
    for name in _modules_for(invoked):
        if name == SELECTIVE_MODULE and invoked is not None:
            import_module(name).register(subparsers, parent, only=invoked)
        else:
            import_module(name).register(subparsers, parent)
    return parser


def _settings(args: argparse.Namespace):  # -> Settings (imported lazily)
    from pgshift import config

    flags = {name: getattr(args, name, None) for name in SETTING_FLAGS}
    for name in getattr(args, "setting_flags", ()):
        flags[name] = getattr(args, name, None)
    settings = config.load(config=getattr(args, "config", None), **flags)
    _run_urls[:] = [settings.url]  # a config file's URL may hold a password too
    return settings


# The URLs of this run whose passwords every message masks, besides the environment's: those
# given with --url (even where argparse refused the command line) and the one loaded.
_run_urls: list[str | None] = []
_argv: list[str] = []


def _print_error(text: str, args: argparse.Namespace | None) -> None:
    from pgshift.cli import error_report

    error_report.print_error(text, error_report.secrets(args, _argv, _run_urls))


_signal_received = [signal.SIGINT]


def interrupt_exit_code() -> int:
    """The exit code of a run a signal interrupted: 128 + the signal (SIGINT unless another)."""
    return 128 + int(_signal_received[0])


def _terminate(signum: int, frame: object) -> None:
    # SIGTERM behaves like Ctrl-C: the running statement is cancelled and rolled back.
    _signal_received[0] = signal.Signals(signum)
    raise KeyboardInterrupt


# The young generation's size for a run. A run keeps nearly every object it makes (modules,
# the parser, a migration per file); at the default (700) the collector scans them again and
# again, about 7 ms of a 100 ms 'status'. Cyclic garbage still goes, every 50,000 objects.
GC_THRESHOLD = 50_000


def main(argv: Sequence[str] | None = None) -> int:
    signal.signal(signal.SIGTERM, _terminate)
    try:
        return _main(argv)
    except KeyboardInterrupt:  # a second signal while the first one was being handled
        return 128 + int(_signal_received[0])


def run() -> NoReturn:
    """The ``pgshift`` executable: ``main()``, then exit with its code.

    After a signal the code is already reported, so leave at once: Python's finalization could
    otherwise run what the signal left pending and end the process as if killed by SIGINT.
    """
    gc.set_threshold(GC_THRESHOLD, *gc.get_threshold()[1:])  # the process's own, not main()'s
    import_driver_without_ssl()
    sys.stdout = _Unfailing(sys.stdout)  # type: ignore[assignment]
    sys.stderr = _Unfailing(sys.stderr)  # type: ignore[assignment]  # up --json's progress
    code = main()
    if code >= 128:
        sys.stdout.flush()
        sys.stderr.flush()
        os._exit(code)
    # Shutdown would scan every object the run made for cycles (10 ms after a status of 1000
    # migrations): what is alive now goes with the process. atexit handlers still run.
    gc.freeze()
    sys.exit(code)


class _Unfailing:
    """Standard output (or error) that a reader going away cannot fail: ``pgshift up | head``
    or a dead log shipper must not stop a run half-way (with exit 0 as it once did). Once a
    write fails (a broken pipe, a full disk, a closed descriptor) the rest is dropped; the run
    goes on, and its exit code still says how it ended."""

    def __init__(self, stream: Any) -> None:
        self._stream = stream
        self._broken = stream is None  # started with stdout closed (>&-)

    def write(self, text: str) -> int:
        if not self._broken:
            try:
                self._stream.write(text)
            except (OSError, ValueError):
                self._broken = True
        return len(text)

    def flush(self) -> None:
        if not self._broken:
            try:
                self._stream.flush()
            except (OSError, ValueError):
                self._broken = True

    def isatty(self) -> bool:
        return not self._broken and self._stream.isatty()

    def __getattr__(self, name: str) -> Any:  # fileno, encoding...: the stream's own
        if self._stream is None:
            raise AttributeError(name)
        return getattr(self._stream, name)


def import_driver_without_ssl() -> None:
    """Import psycopg2 without the ``ssl`` module it imports first (9 ms of every run).

    psycopg2 imports ``ssl`` only so that Python, not libpq, sets up OpenSSL's locking callbacks;
    where ``ssl`` cannot be imported it leaves that to libpq, as documented. OpenSSL 1.1 and
    later have no such callbacks, and the psycopg2-binary wheel links its own copy of OpenSSL,
    which Python's ``ssl`` never touches. Connections still use SSL as libpq negotiates it.
    The executable owns its process; the library leaves imports to its users. Later imports
    of ``ssl`` work as usual.
    """
    if "psycopg2" in sys.modules or "ssl" in sys.modules:
        return
    sys.modules["ssl"] = None  # type: ignore[assignment]  # None makes `import ssl` fail
    try:
        import psycopg2  # noqa: F401
    except ImportError:
        pass  # reported where the driver is used, with a hint
    finally:
        del sys.modules["ssl"]


def _main(argv: Sequence[str] | None) -> int:
    argv = sys.argv[1:] if argv is None else list(argv)
    _argv[:] = argv
    _run_urls.clear()
    args: argparse.Namespace | None = None
    try:  # a bug in building the parser is an internal error too, not a bare traceback
        args = build_parser(argv).parse_args(argv)
        settings = _settings(args)
        if settings.connect_wait > 0:
            from pgshift import db

            db.on_server_wait = _server_wait_notice(settings.connect_wait)
        return int(args.handler(args, settings) or 0)
    except PgshiftError as exc:
        if _debug(args):
            _print_traceback(args)
        _print_error(str(exc), args)
        return exc.exit_code
    except KeyboardInterrupt:
        # Report once; further signals must not turn the clean exit into a crash.
        signal.signal(signal.SIGINT, signal.SIG_IGN)
        signal.signal(signal.SIGTERM, signal.SIG_IGN)
        from pgshift.cli.error_report import interrupted

        name = signal.Signals(_signal_received[0]).name
        _print_error(interrupted(name, getattr(args, "command", None)), args)
        return 128 + int(_signal_received[0])
    except BrokenPipeError:
        return 0
    except Exception as exc:  # a bug, unless the server's setup refused: say so, masked
        if _debug(args):
            _print_traceback(args)
        from pgshift.cli.error_report import internal_error, refused_by_the_server

        refused = refused_by_the_server(exc)
        _print_error(refused or internal_error(exc), args)
        return 2 if refused is not None else 70


def _server_wait_notice(budget: float) -> Callable[[str], None]:
    """Say once, on stderr, that a run waits for the server (``--connect-wait``)."""

    def notice(what: str) -> None:
        print(f"Waiting up to {budget:g}s for the database server ({what}) ...",
              file=sys.stderr, flush=True)
    return notice


def _debug(args: argparse.Namespace | None) -> bool:
    """Whether --debug was given (even where the command line could not be parsed)."""
    return bool(getattr(args, "debug", False)) or (args is None and "--debug" in _argv)


def _print_traceback(args: argparse.Namespace | None) -> None:
    from pgshift.cli import error_report

    error_report.print_traceback(error_report.secrets(args, _argv, _run_urls))


if __name__ == "__main__":
    raise SystemExit(main())
