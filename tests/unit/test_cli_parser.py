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


def test_help_and_unknown_commands_get_the_full_parser() -> None:
    for argv in (["--help"], ["nonsense"], None):
        parser = build_parser(argv)
        subparsers = next(a for a in parser._actions
                          if isinstance(a, argparse._SubParsersAction))
        assert set(COMMAND_OWNERS) <= set(subparsers.choices)
