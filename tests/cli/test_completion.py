"""``pgshift completion``: scripts generated from the parser that really complete in bash."""

from __future__ import annotations

import shutil
import subprocess

import pytest

from pgshift.cli.completion import script
from pgshift.cli.main import build_parser, main


def complete_in_bash(line: str) -> list[str]:
    """What bash offers for ``line`` (its last word is the one being completed)."""
    words = line.split(" ")
    program = (script(build_parser(), "bash")
               + f"COMP_WORDS=({' '.join(repr(w) for w in words)}); "
               + f"COMP_CWORD={len(words) - 1}; _pgshift; printf '%s\\n' \"${{COMPREPLY[@]}}\"")
    done = subprocess.run(["bash", "-c", program], capture_output=True, text=True, timeout=10)
    assert done.returncode == 0, done.stderr
    return sorted(w for w in done.stdout.split("\n") if w)


@pytest.mark.skipif(shutil.which("bash") is None, reason="needs bash")
def test_bash_completion_offers_commands_options_and_choices() -> None:
    assert {"adopt", "up", "status", "completion"} <= set(complete_in_bash("pgshift "))
    assert complete_in_bash("pgshift ad") == ["adopt"]
    assert "--all-targets" in complete_in_bash("pgshift up --")
    assert complete_in_bash("pgshift --url x adopt --from fl") == ["flyway"]
    assert complete_in_bash("pgshift completion z") == ["zsh"]


def test_completion_prints_a_script_for_each_shell(capsys) -> None:
    for shell, marker in (("bash", "complete -o default -F _pgshift pgshift"),
                          ("zsh", "bashcompinit"), ("fish", "-l all-targets")):
        assert main(["completion", shell]) == 0
        assert marker in capsys.readouterr().out
