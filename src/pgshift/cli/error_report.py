"""What a failed run says: one line on stderr, in pgshift's form, passwords masked.

``cli/main.py`` catches the errors and picks the exit code; this module, imported only when
something went wrong, words the line: a "did you mean" for a command line argparse refused,
what an interrupted run left behind, and what the server's or role's setup refused.
"""

from __future__ import annotations

import argparse
import os
import sys
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any, NoReturn

if TYPE_CHECKING:
    from pgshift.cli.main import ArgumentParser

# What users of other migration tools type (Flyway, dbmate, Alembic, node-pg-migrate), and
# pgshift's word for it: offered as a hint, never run.
OTHER_TOOLS_WORDS = {
    "migrate": "up", "upgrade": "up", "downgrade": "down", "new": "create", "revision": "create",
    "info": "status", "current": "status", "history": "log", "stamp": "baseline",
    "help": "--help", "version": "--version",
}


def print_error(text: str, secrets: Sequence[str | None]) -> None:
    """``pgshift: error: TEXT`` on one line (whatever the message quotes: libpq's second line,
    a token with a newline), with ``secrets`` masked."""
    from pgshift.db import redact

    line = " ".join(part.strip() for part in text.splitlines() if part.strip())
    print(f"pgshift: error: {redact(line, *secrets)}", file=sys.stderr)


def print_traceback(secrets: Sequence[str | None]) -> None:
    """The traceback being handled (``--debug``), with ``secrets`` masked."""
    import traceback

    from pgshift.db import redact

    print(redact(traceback.format_exc(), *secrets), file=sys.stderr)


def secrets(args: argparse.Namespace | None, argv: Sequence[str],
            run_urls: Sequence[str | None]) -> list[str | None]:
    """What every message masks: the environment's URLs and password, ``run_urls`` (the URL
    loaded), and the URLs of ``argv`` and ``args`` (even where argparse refused the line)."""
    urls: list[str | None] = [os.environ.get("PGSHIFT_URL"), os.environ.get("DATABASE_URL"),
                              *run_urls, *_url_arguments(argv)]
    if args is not None:
        urls.append(getattr(args, "url", None))
    password = os.environ.get("PGPASSWORD")
    if password:  # quoted as in a keyword DSN: it may hold blanks
        quoted = password.replace("\\", "\\\\").replace("'", "\\'")
        urls.append(f"password='{quoted}'")
    return urls


def _url_arguments(argv: Sequence[str]) -> list[str]:
    """The values of ``--url`` (or its abbreviations) in ``argv``, parsed or not."""
    found = []
    for i, arg in enumerate(argv):
        name, equals, value = arg.partition("=")
        if name.startswith("--u") and "--url".startswith(name):
            if equals:
                found.append(value)
            elif i + 1 < len(argv):
                found.append(argv[i + 1])
    return found


def unrecognized(parser: ArgumentParser, extra: list[str]) -> NoReturn:
    """Arguments nobody took, reported by ``parser`` (the command's), with its nearest option."""
    import difflib

    command = parser.prog.removeprefix("pgshift").strip()
    hint = f"'pgshift {command + ' ' if command else ''}--help' lists what it takes"
    given = next((arg.partition("=")[0] for arg in extra if arg.startswith("--")), None)
    if given is not None:
        options = [s for a in parser._actions for s in a.option_strings if s.startswith("--")]
        close = difflib.get_close_matches(given, options, n=1)
        if close:
            hint = f"did you mean {close[0]}? {hint}"
    parser.error(f"unrecognized arguments: {' '.join(extra)}", hint=hint)


def invalid_choice(parser: ArgumentParser, action: argparse.Action, value: Any) -> NoReturn:
    """An unknown command, or a value not among an option's choices, with the nearest."""
    import difflib

    choices = [str(choice) for choice in action.choices or ()]
    close = difflib.get_close_matches(str(value), choices, n=1)
    if isinstance(action, argparse._SubParsersAction):
        word = OTHER_TOOLS_WORDS.get(value) or (close[0] if close else None)
        if word == "--help":
            hint = "'pgshift --help' lists the commands, 'pgshift COMMAND --help' its options"
        else:
            mean = f"pgshift {word}" if word and word.startswith("-") else word
            hint = (f"did you mean '{mean}'? " if mean else "") + ("'pgshift --help' "
                                                                   "lists the commands")
        parser.error(f"unknown command '{value}'", hint=hint)
    name = "/".join(action.option_strings) or action.metavar or action.dest
    listed = ", ".join(f"'{choice}'" for choice in choices)
    message = f"argument {name}: invalid choice: '{value}' (choose from {listed})"
    if not close:
        parser.error(message)
    command = parser.prog.removeprefix("pgshift").strip()
    parser.error(message, hint=f"did you mean '{close[0]}'? 'pgshift "
                               f"{command + ' ' if command else ''}--help' lists what it takes")


# The commands that change the target database (the others read it, or only a scratch one).
_CHANGES_THE_TARGET = frozenset({"up", "down", "redo", "rollback", "backfill", "baseline",
                                 "repair", "adopt"})


def interrupted(signal_name: str, command: str | None) -> str:
    """What a run of ``command`` that a signal interrupted left of the target."""
    if command in _CHANGES_THE_TARGET:
        what = ("the running statement was cancelled and its transaction rolled back "
                "(a no-transaction file keeps its statements done); 'pgshift status' shows "
                "where it stopped")
    else:
        what = "nothing of the target was changed"
    return f"interrupted by {signal_name}: {what}"


def internal_error(exc: Exception) -> str:
    """The line for a bug of pgshift's: the exception's type and first line."""
    first = (str(exc).strip().splitlines() or [""])[0]
    return (f"internal error: {type(exc).__name__}: {first} (run with --debug for the "
            "traceback, and please report it)")


# Database errors that come from how the server or the role is set up, not from a bug of
# pgshift's (SQLSTATE class or code: what it means, and the hint).
_SERVER_SETUP = {
    "25006": ("the database takes no writes from this session", "it is read-only "
              "(default_transaction_read_only, or a standby): run pgshift against the primary"),
    "57014": ("a statement of pgshift's own was cancelled", "a statement_timeout set for the "
              "database or the role is shorter than it needs: raise it for pgshift's role"),
    "42501": ("the role may not do what pgshift needs", "grant it, or run pgshift as the role "
              "that owns the schema"),
    "08": ("the connection to the database was lost", "check the server, then run again: "
           "'pgshift status' shows where it stopped"),
    "57P": ("the server ended the session", "check the server, then run again: 'pgshift "
            "status' shows where it stopped"),
    "53": ("the server is out of resources", "check the server's disk, memory and "
           "connection limits"),
}


def refused_by_the_server(exc: Exception) -> str | None:
    """The one-line message for a database error that the server's or role's setup caused
    (a read-only database, a role's statement_timeout, a lost connection), None for others."""
    if not type(exc).__module__.startswith("psycopg2"):
        return None
    code = getattr(exc, "pgcode", None) or ("08" if type(exc).__name__ in (
        "OperationalError", "InterfaceError") else "")
    for prefix in (code, code[:3], code[:2]):
        if prefix in _SERVER_SETUP:
            what, hint = _SERVER_SETUP[prefix]
            first = (str(exc).strip().splitlines() or [type(exc).__name__])[0]
            return f"{what}: {first} (hint: {hint})"
    return None
