"""The ``pgshift(1)`` man page, in troff, made from the argparse parser.

So it always lists every command and option there is, with their help texts. Regenerate the
committed page (a test checks that it is in sync) and read it with::

    python -m pgshift.cli.manpage > docs/pgshift.1
    man ./docs/pgshift.1
"""

from __future__ import annotations

import argparse
import sys
from typing import Any

_ENVIRONMENT = [
    ("PGSHIFT_URL", "The database URL, when \\-\\-url is not given."),
    ("DATABASE_URL", "The database URL, when neither \\-\\-url nor PGSHIFT_URL is set."),
    ("PGSHIFT_*", "Any setting of pgshift.toml but placeholders and targets, e.g. PGSHIFT_DIR "
                  "or PGSHIFT_LOCK_TIMEOUT. Precedence, lowest first: defaults, the config "
                  "file, PGSHIFT_* variables, command\\-line options."),
    ("PGSHIFT_CONFIG", "The config file, when \\-\\-config is not given."),
    ("PGSHIFT_PLACEHOLDER_NAME", "The value of ${name} in migrations (the config file's "
                                 "[placeholders] table holds them too)."),
    ("NO_COLOR", "Set and not empty: no colours in live views (ps \\-\\-watch, progress "
                 "bars)."),
    ("PGHOST, PGPORT, PGUSER, PGPASSWORD, PGDATABASE, ...",
     "With no URL set, libpq's own variables apply."),
]
_SEE_ALSO = ("README.md, docs/ci.md, docs/coming\\-from.md, docs/guarantees.md, docs/lint.md and "
             "docs/zero\\-downtime.md in pgshift's repository.")


def page(parser: argparse.ArgumentParser) -> str:
    """The man page describing ``parser`` (pgshift's, from ``build_parser()``)."""
    global_actions = _options(parser)
    lines = [
        '.TH PGSHIFT 1 "" "pgshift" "User Commands"',
        ".nh",  # no hyphenation, no justification: option names stay whole
        ".ad l",
        ".SH NAME",
        f"pgshift \\- {_text(parser.description or '')}",
        ".SH SYNOPSIS",
        ".B pgshift",
        "[\\fIglobal options\\fR] \\fICOMMAND\\fR [\\fIoptions\\fR]",
        ".SH DESCRIPTION",
        _text(parser.description or ""),
        "Global options go before or after the command name. "
        "\\fBpgshift COMMAND \\-\\-help\\fR prints one command's options.",
        ".SH GLOBAL OPTIONS",
        *_option_lines(global_actions),
        ".SH COMMANDS",
    ]
    # A global option, as every command's parser has it: its strings and its help (lint's
    # --schema FILE and baseline's --version V share a string with one, and are their own).
    shared = {(tuple(action.option_strings), action.help) for action in global_actions}
    for names, help_text, sub in _subcommands(parser):
        lines += _command_lines(names, help_text, sub, shared)
    lines += [".SH ENVIRONMENT"]
    for name, text in _ENVIRONMENT:
        lines += [".TP", f".B {name}", text]
    lines += [".SH EXIT STATUS", _text(parser.epilog or ""), ".SH SEE ALSO", _SEE_ALSO]
    return "\n".join(lines) + "\n"


def _subcommands(parser: argparse.ArgumentParser
                 ) -> list[tuple[list[str], str, argparse.ArgumentParser]]:
    """Each command once, with its aliases and its help, in the order they were registered."""
    found: dict[int, tuple[list[str], str, argparse.ArgumentParser]] = {}
    for action in parser._actions:
        if not isinstance(action, argparse._SubParsersAction):
            continue
        helps = {a.dest: a.help or "" for a in action._choices_actions}
        for name, sub in action.choices.items():
            entry = found.setdefault(id(sub), ([], helps.get(name, ""), sub))
            entry[0].append(name)
    return list(found.values())


def _command_lines(names: list[str], help_text: str, sub: argparse.ArgumentParser,
                   shared: set[tuple[tuple[str, ...], str | None]]) -> list[str]:
    title = names[0] + (f" (alias: {', '.join(names[1:])})" if names[1:] else "")
    own = [a for a in sub._actions if (tuple(a.option_strings), a.help) not in shared
           and a.help != argparse.SUPPRESS and "-h" not in a.option_strings]
    lines = [f".SS {_text(title)}", ".B pgshift", _text(_synopsis(names[0], own)), ".PP",
             _text(_tidy(sub.description or help_text))]
    return lines + _option_lines(own)


def _synopsis(name: str, actions: list[argparse.Action]) -> str:
    """``name [--option VALUE] ... POSITIONAL``: the command's own options, globals left out."""
    formatter = argparse.HelpFormatter("pgshift")
    words = [name]
    for action in actions:
        if action.option_strings:
            option = action.option_strings[-1]
            if action.nargs != 0:
                metavar = formatter._get_default_metavar_for_optional(action)
                option += " " + formatter._format_args(action, metavar)
            words.append(option if action.required else f"[{option}]")
    for action in actions:
        if not action.option_strings:
            words.append(formatter._format_args(action, action.dest))
    return " ".join(words)


def _options(parser: argparse.ArgumentParser) -> list[argparse.Action]:
    """The top-level parser's own options (the global ones), without --help."""
    return [a for a in parser._actions if a.option_strings and "-h" not in a.option_strings
            and a.help != argparse.SUPPRESS]


def _option_lines(actions: list[argparse.Action]) -> list[str]:
    formatter = argparse.HelpFormatter("pgshift")
    lines = []
    for action in actions:
        invocation = formatter._format_action_invocation(action)
        lines += [".TP", f".B {_text(invocation)}", _text(_tidy(_help(action)))]
    return lines


def _help(action: argparse.Action) -> str:
    text = action.help or ""
    if "%(" in text:
        params: dict[str, Any] = {**vars(action), "prog": "pgshift"}
        if action.choices is not None:
            params["choices"] = ", ".join(str(c) for c in action.choices)
        text = text % params
    return text.replace("%%", "%")


def _tidy(text: str) -> str:
    """The help text on one line (troff fills it)."""
    return " ".join(text.split())


def _text(text: str) -> str:
    r"""``text`` as troff: backslashes, dashes and non-ASCII escaped, no line read as a request."""
    text = text.replace("\\", "\\e").replace("-", "\\-")
    text = "".join(c if ord(c) < 128 else f"\\[u{ord(c):04X}]" for c in text)
    return "\n".join("\\&" + line if line.startswith((".", "'")) else line
                     for line in text.split("\n"))


def main() -> int:
    from pgshift.cli.main import build_parser

    sys.stdout.write(page(build_parser()))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
