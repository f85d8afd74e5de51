"""The CLI parser: every command is registered, and the fast path builds only what it needs."""

from __future__ import annotations

import argparse
from importlib import import_module

from pgshift.cli.main import COMMAND_MODULES, COMMAND_OWNERS, build_parser, global_options


def test_the_owner_table_matches_what_each_module_registers() -> None:
    registered = {}
    for name in COMMAND_MODULES:
        subparsers = argparse.ArgumentParser().add_subparsers()
        import_module(name).register(subparsers, global_options())
        registered.update(dict.fromkeys(subparsers.choices, name))
    assert registered == COMMAND_OWNERS


def test_an_invoked_command_builds_only_its_own_module() -> None:
    parser = build_parser(["--url", "x", "status"])
    subparsers = next(a for a in parser._actions if isinstance(a, argparse._SubParsersAction))
    assert "status" in subparsers.choices and "lint" not in subparsers.choices
    args = parser.parse_args(["--url", "x", "status", "--json"])
    assert args.json and args.url == "x"


def commands_of(parser: argparse.ArgumentParser) -> set[str]:
    subparsers = next(a for a in parser._actions if isinstance(a, argparse._SubParsersAction))
    return set(subparsers.choices)


def test_a_core_verb_builds_only_its_own_parser_and_its_aliases() -> None:
    assert commands_of(build_parser(["down", "--all"])) == {"down"}
    assert commands_of(build_parser(["ls", "--json"])) == {"status", "ls"}
    args = build_parser(["up", "--dry-run"]).parse_args(["up", "--dry-run"])
    assert args.dry_run and args.handler.__name__ == "up"


def test_a_command_name_given_as_an_option_value_still_parses_the_real_command() -> None:
    argv = ["--dir", "up", "status", "--json"]
    args = build_parser(argv).parse_args(argv)
    assert str(args.dir) == "up" and args.json and args.handler.__name__ == "status"


def test_help_and_unknown_commands_get_the_full_parser() -> None:
    for argv in (["--help"], ["nonsense"], None):
        parser = build_parser(argv)
        subparsers = next(a for a in parser._actions
                          if isinstance(a, argparse._SubParsersAction))
        assert set(COMMAND_OWNERS) <= set(subparsers.choices)
