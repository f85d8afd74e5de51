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
from typing import Any

SHELLS = ("bash", "zsh", "fish")
_PATH_OPTIONS = ("--dir", "--config", "--out", "--output")


@dataclass
class _Command:
    names: list[str]
    help: str
    options: dict[str, str] = field(default_factory=dict)  # option -> help
    choices: dict[str, list[str]] = field(default_factory=dict)
    takes_value: set[str] = field(default_factory=set)


def register(subparsers: Any, parent: argparse.ArgumentParser) -> None:
    p = subparsers.add_parser("completion", help="print a shell completion script",
                              description=__doc__.split("\n\n")[0])
    p.add_argument("shell", choices=SHELLS)
    p.set_defaults(handler=completion)


def completion(args: argparse.Namespace, settings: object) -> int:
    from pgshift.cli.main import build_parser

    print(script(build_parser(), args.shell), end="")
    return 0


def script(parser: argparse.ArgumentParser, shell: str) -> str:
    """The completion script for ``shell`` describing ``parser``."""
    commands = _commands(parser)
    return {"bash": _bash, "zsh": _zsh, "fish": _fish}[shell](commands)


def _commands(parser: argparse.ArgumentParser) -> list[_Command]:
    found: dict[int, _Command] = {}
    for action in parser._actions:
        if not isinstance(action, argparse._SubParsersAction):
            continue
        helps = {a.dest: a.help or "" for a in action._choices_actions}
        for name, sub in action.choices.items():
            command = found.setdefault(id(sub), _Command([], helps.get(name, "")))
            command.names.append(name)
            if command.options:
                continue
            for option in sub._actions:
                for string in option.option_strings:
                    if not string.startswith("--"):
                        continue
                    command.options[string] = (option.help or "").replace("%%", "%")
                    if option.nargs != 0:
                        command.takes_value.add(string)
                    if option.choices:
                        command.choices[string] = [str(c) for c in option.choices]
            for option in sub._actions:
                if not option.option_strings and option.choices and option.dest != "help":
                    command.choices[""] = [str(c) for c in option.choices]
    return list(found.values())


def _bash(commands: list[_Command]) -> str:
    names = " ".join(n for c in commands for n in c.names)
    valued = sorted({o for c in commands for o in c.takes_value})
    cases = []
    for command in commands:
        pattern = "|".join(command.names)
        opts = shlex.quote(" ".join(command.options))
        lines = [f"        {pattern})", f"            opts={opts}"]
        for option, choices in command.choices.items():
            if option:
                lines.append(f"            [[ $prev == {option} ]] && choices="
                             f"{shlex.quote(' '.join(choices))}")
        if "" in command.choices:
            lines.append(f"            [[ $cur != -* ]] && choices="
                         f"{shlex.quote(' '.join(command.choices['']))}")
        cases.append("\n".join(lines) + " ;;")
    return _BASH.format(names=names, valued="|".join(valued) or "--none",
                        paths="|".join(_PATH_OPTIONS), cases="\n".join(cases))


_BASH = """# bash completion for pgshift: eval "$(pgshift completion bash)"
_pgshift() {{
    local cur=${{COMP_WORDS[COMP_CWORD]}} prev=${{COMP_WORDS[COMP_CWORD-1]}}
    local cmd="" i opts="" choices=""
    for ((i = 1; i < COMP_CWORD; i++)); do
        case ${{COMP_WORDS[i]}} in
            {valued}) ((i++)) ;;
            -*) ;;
            *) cmd=${{COMP_WORDS[i]}}; break ;;
        esac
    done
    case $prev in
        {paths}) COMPREPLY=($(compgen -f -- "$cur")); return ;;
    esac
    if [[ -z $cmd ]]; then
        COMPREPLY=($(compgen -W "{names} --help" -- "$cur"))
        return
    fi
    case $cmd in
{cases}
    esac
    if [[ -n $choices ]]; then
        COMPREPLY=($(compgen -W "$choices" -- "$cur"))
    elif [[ $cur == -* || -z $cur ]]; then
        COMPREPLY=($(compgen -W "$opts" -- "$cur"))
    fi
}}
complete -o default -F _pgshift pgshift
"""


def _zsh(commands: list[_Command]) -> str:
    return ("# zsh completion for pgshift: eval \"$(pgshift completion zsh)\"\n"
            "autoload -U +X bashcompinit && bashcompinit\n" + _bash(commands).split("\n", 1)[1])


def _fish(commands: list[_Command]) -> str:
    names = " ".join(n for c in commands for n in c.names)
    lines = ["# fish completion for pgshift", "complete -c pgshift -f"]
    for command in commands:
        for name in command.names:
            lines.append(f"complete -c pgshift -n 'not __fish_seen_subcommand_from {names}' "
                         f"-a {name} -d {_fish_quote(command.help)}")
        seen = " ".join(command.names)
        for option, text in command.options.items():
            extra = ""
            if option in command.choices:
                extra = f" -xa {_fish_quote(' '.join(command.choices[option]))}"
            elif option in _PATH_OPTIONS:
                extra = " -rF"
            elif option in command.takes_value:
                extra = " -r"
            lines.append(f"complete -c pgshift -n '__fish_seen_subcommand_from {seen}' "
                         f"-l {option[2:]}{extra} -d {_fish_quote(text)}")
        if "" in command.choices:
            lines.append(f"complete -c pgshift -n '__fish_seen_subcommand_from {seen}' "
                         f"-a {_fish_quote(' '.join(command.choices['']))}")
    return "\n".join(lines) + "\n"


def _fish_quote(text: str) -> str:
    return "'" + text.replace("\\", "\\\\").replace("'", "\\'") + "'"
