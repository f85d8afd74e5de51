"""The man page is made from the parser: it names every command and option, and is committed."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from pgshift.cli.main import COMMAND_OWNERS, build_parser
from pgshift.cli.manpage import page

COMMITTED = Path(__file__).resolve().parents[2] / "docs" / "pgshift.1"


def test_the_committed_man_page_is_the_one_the_parser_makes() -> None:
    made = subprocess.run([sys.executable, "-m", "pgshift.cli.manpage"], capture_output=True,
                          text=True, check=True).stdout
    assert made == page(build_parser())
    assert COMMITTED.read_text(encoding="utf-8") == made, (
        "docs/pgshift.1 is out of date: python -m pgshift.cli.manpage > docs/pgshift.1")


def test_the_man_page_has_a_section_for_every_command_and_lists_its_options() -> None:
    text = page(build_parser())
    commands = {line.split()[1] for line in text.splitlines() if line.startswith(".SS ")}
    aliases = {"ls", "monitor"}
    assert commands == set(COMMAND_OWNERS) - aliases
    assert ".SS ps (alias: monitor)" in text
    kill = text.split(".SS kill")[1].split(".SS ")[0]
    assert ".B \\-\\-grace S\nterminate if the cancel has no effect within S" in kill
    assert "\\-\\-url" not in kill  # global options are listed once, in their own section
    assert ".SH GLOBAL OPTIONS\n.TP\n.B \\-\\-url URL\n" in text


def test_troff_requests_and_escapes_in_help_texts_cannot_break_the_page() -> None:
    from pgshift.cli.manpage import _text

    assert _text(".not a request\n'nor this") == "\\&.not a request\n\\&'nor this"
    assert _text("a\\b --c …") == "a\\eb \\-\\-c \\[u2026]"
