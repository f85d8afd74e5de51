"""``pgshift completion bash|zsh|fish``: a shell completion script made from the argparse parser.

So it always knows every command, option and choice there is. Install::

    eval "$(pgshift completion bash)"        # in ~/.bashrc
    eval "$(pgshift completion zsh)"         # in ~/.zshrc
    pgshift completion fish > ~/.config/fish/completions/pgshift.fish
"""

from __future__ import annotations

import argparse
import shlex
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

SHELLS = ("bash", "zsh", "fish")
_PATH_METAVARS = ("FILE", "PATH", "DIR")


@dataclass
class _Option:
    """One option: its strings (``-o``, ``--output``), help, and what its value is: None
    (none), ``"value"`` (anything), ``"file"``, ``"dir"`` or ``"choice"`` (of ``choices``)."""

    strings: list[str]
    help: str
    value: str | None
    choices: list[str] = field(default_factory=list)

    @property
    def long(self) -> str | None:
        return next((s for s in self.strings if s.startswith("--")), None)


@dataclass
class _Command:
    names: list[str]
    help: str
    options: list[_Option] = field(default_factory=list)
    positional: list[str] = field(default_factory=list)  # choices of its positional argument

    def strings(self, value: str) -> list[str]:
        """Every string of the options whose value is ``value``."""
        return [s for o in self.options if o.value == value for s in o.strings]


def register(subparsers: Any, parent: argparse.ArgumentParser) -> None:
    p = subparsers.add_parser(
        "completion", help="print a shell completion script",
        description="print a completion script for bash, zsh or fish, made from pgshift's own "
                    "options: eval \"$(pgshift completion bash)\" in ~/.bashrc (zsh: the same "
                    "in ~/.zshrc; fish: pgshift completion fish > "
                    "~/.config/fish/completions/pgshift.fish)")
    p.add_argument("shell", choices=SHELLS, help="the shell: bash, zsh or fish")
    p.set_defaults(handler=completion)


def completion(args: argparse.Namespace, settings: object) -> int:
    from pgshift.cli.main import build_parser

    print(script(build_parser(), args.shell), end="")
    return 0


def script(parser: argparse.ArgumentParser, shell: str) -> str:
    """The completion script for ``shell`` describing ``parser``."""
    commands = _commands(parser)
    top = _Command([], "", _options(parser))
    return {"bash": _bash, "zsh": _zsh, "fish": _fish}[shell](commands, top)


def _commands(parser: argparse.ArgumentParser) -> list[_Command]:
    found: dict[int, _Command] = {}
    for action in parser._actions:
        if not isinstance(action, argparse._SubParsersAction):
            continue
        helps = {a.dest: a.help or "" for a in action._choices_actions}
        for name, sub in action.choices.items():
            command = found.setdefault(id(sub), _Command([], helps.get(name, "")))
            command.names.append(name)
            if not command.options:
                command.options = _options(sub)
                command.positional = next(
                    ([str(c) for c in a.choices] for a in sub._actions
                     if not a.option_strings and a.choices and a.dest != "help"), [])
    return list(found.values())


def _options(parser: argparse.ArgumentParser) -> list[_Option]:
    """The options of ``parser`` (of the whole program: the global ones)."""
    options = []
    for action in parser._actions:
        strings = [s for s in action.option_strings if s != "-h"]
        if not strings or isinstance(action, argparse._SubParsersAction):
            continue
        value: str | None = None
        if action.nargs != 0:
            value = "value"
            if action.choices:
                value = "choice"
            elif action.dest == "dir":
                value = "dir"
            elif action.type is Path or str(action.metavar or "") in _PATH_METAVARS:
                value = "file"
        options.append(_Option(strings, (action.help or "").replace("%%", "%"), value,
                               [str(c) for c in action.choices or ()]))
    return options


def _bash(commands: list[_Command], top: _Command) -> str:
    names = " ".join(n for c in commands for n in c.names)
    cases = []
    for command in [top, *commands]:
        pattern = "|".join(command.names) or '""'
        lines = [f"        {pattern})",
                 "            opts=" + shlex.quote(" ".join(o.long for o in command.options
                                                            if o.long)),
                 *(f"            {name}={shlex.quote(' '.join(command.strings(value)))}"
                   for name, value in (("values", "value"), ("files", "file"),
                                       ("dirs", "dir")) if command.strings(value))]
        for option in command.options:
            if option.value == "choice":
                test = " || ".join(f"$prev == {s}" for s in option.strings)
                lines.append(f"            [[ {test} ]] && choices="
                             f"{shlex.quote(' '.join(option.choices))}")
        if command.positional:
            lines.append(f"            [[ $cur != -* ]] && choices="
                         f"{shlex.quote(' '.join(command.positional))}")
        cases.append("\n".join(lines) + " ;;")
    valued = [s for value in ("value", "file", "dir", "choice") for s in top.strings(value)]
    return _BASH.format(names=names, valued="|".join(valued) or "--none",
                        cases="\n".join(cases))


_BASH = """# bash completion for pgshift: eval "$(pgshift completion bash)"
_pgshift() {{
    # bash splits words at ':', '=' and '@' too: put postgres://u@h:5432/db back together
    # (words with no space between them in the line are one)
    local -a parts=()
    local i n w rest=${{COMP_LINE-}}
    for ((i = 0; i <= COMP_CWORD; i++)); do
        w=${{COMP_WORDS[i]}}
        n=${{#parts[@]}}
        if ((n > 0)) && [[ -n $COMP_LINE && $rest != [[:space:]]* ]]; then
            parts[n-1]+=$w
        else
            parts+=("$w")
        fi
        rest=${{rest#"${{rest%%[![:space:]]*}}"}}
        rest=${{rest#"$w"}}
    done
    n=${{#parts[@]}}
    local cur=${{parts[n-1]}} prev=${{parts[n-2]}}
    local cmd="" opts="" values="" files="" dirs="" choices=""
    for ((i = 1; i < n - 1; i++)); do
        case ${{parts[i]}} in
            {valued}) ((i++)) ;;
            -*) ;;
            *) cmd=${{parts[i]}}; break ;;
        esac
    done
    case $cmd in
{cases}
    esac
    if [[ " $dirs " == *" $prev "* ]]; then
        COMPREPLY=($(compgen -d -- "$cur"))
    elif [[ " $files " == *" $prev "* ]]; then
        COMPREPLY=($(compgen -f -- "$cur"))
    elif [[ -n $choices && ($prev != -* || " $values " != *" $prev "*) ]]; then
        COMPREPLY=($(compgen -W "$choices" -- "$cur"))
    elif [[ " $values " == *" $prev "* ]]; then
        COMPREPLY=()  # the option's value: nothing to offer, not even file names
        compopt +o default 2>/dev/null
    elif [[ -z $cmd && $cur != -* ]]; then
        COMPREPLY=($(compgen -W "{names}" -- "$cur"))
    elif [[ $cur == -* || -z $cur ]]; then
        COMPREPLY=($(compgen -W "$opts" -- "$cur"))
    fi
    return 0
}}
complete -o default -F _pgshift pgshift
"""


def _zsh(commands: list[_Command], top: _Command) -> str:
    return ("# zsh completion for pgshift: eval \"$(pgshift completion zsh)\"\n"
            "autoload -U +X bashcompinit && bashcompinit\n"
            + _bash(commands, top).split("\n", 1)[1])


def _fish(commands: list[_Command], top: _Command) -> str:
    names = " ".join(n for c in commands for n in c.names)
    lines = ["# fish completion for pgshift", "complete -c pgshift -f"]
    for option in top.options:
        lines.append(_fish_option(option, f"not __fish_seen_subcommand_from {names}"))
    for command in commands:
        for name in command.names:
            lines.append(f"complete -c pgshift -n 'not __fish_seen_subcommand_from {names}' "
                         f"-a {name} -d {_fish_quote(command.help)}")
        seen = f"__fish_seen_subcommand_from {' '.join(command.names)}"
        lines += [_fish_option(option, seen) for option in command.options]
        if command.positional:
            lines.append(f"complete -c pgshift -n '{seen}' "
                         f"-a {_fish_quote(' '.join(command.positional))}")
    return "\n".join(lines) + "\n"


def _fish_option(option: _Option, condition: str) -> str:
    names = " ".join(f"-l {s[2:]}" if s.startswith("--") else f"-s {s[1:]}"
                     for s in option.strings)
    extra = {None: "", "value": " -x", "file": " -rF",
             "dir": " -xa '(__fish_complete_directories)'",
             "choice": f" -xa {_fish_quote(' '.join(option.choices))}"}[option.value]
    return (f"complete -c pgshift -n '{condition}' {names}{extra} "
            f"-d {_fish_quote(option.help)}")


def _fish_quote(text: str) -> str:
    return "'" + text.replace("\\", "\\\\").replace("'", "\\'") + "'"
