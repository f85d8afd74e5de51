"""``pgshift completion``: scripts generated from the parser that really complete in bash."""

from __future__ import annotations

import re
import shutil
import subprocess
from pathlib import Path

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


def complete_line_in_bash(line: str, cwd: Path) -> list[str]:
    """What bash offers at the end of ``line``, its words split as readline splits them
    (at spaces, and at bash's COMP_WORDBREAKS ':', '=' and '@' too)."""
    words = re.findall(r"[:=@]+|[^\s:=@]+", line) + ([""] if line.endswith(" ") else [])
    program = (script(build_parser(), "bash")
               + f"COMP_LINE={line!r}; COMP_POINT=${{#COMP_LINE}}; "
               + f"COMP_WORDS=({' '.join(repr(w) for w in words)}); "
               + f"COMP_CWORD={len(words) - 1}; _pgshift; printf '%s\\n' \"${{COMPREPLY[@]}}\"")
    done = subprocess.run(["bash", "-c", program], capture_output=True, text=True, timeout=10,
                          cwd=cwd)
    assert done.returncode == 0, done.stderr
    return sorted(w for w in done.stdout.split("\n") if w)


@pytest.mark.skipif(shutil.which("bash") is None, reason="needs bash")
def test_bash_completes_an_options_value_as_a_value_not_as_options(tmp_path: Path) -> None:
    (tmp_path / "schema.sql").touch()
    (tmp_path / "db").mkdir()
    assert complete_line_in_bash("pgshift dump -o ", tmp_path) == ["db", "schema.sql"]
    assert complete_line_in_bash("pgshift dump --output s", tmp_path) == ["schema.sql"]
    assert complete_line_in_bash("pgshift up --script ", tmp_path) == ["db", "schema.sql"]
    assert complete_line_in_bash("pgshift --dir ", tmp_path) == ["db"]
    assert complete_line_in_bash("pgshift up --to ", tmp_path) == []
    assert complete_line_in_bash("pgshift --url ", tmp_path) == []
    assert complete_line_in_bash("pgshift squash --to 3 --em", tmp_path) == ["--embedded"]


@pytest.mark.skipif(shutil.which("bash") is None, reason="needs bash")
def test_bash_finds_the_command_after_a_url_that_bash_splits_at_colons(tmp_path: Path) -> None:
    url = "postgresql://app:pw@db.example:5432/app"
    assert "squash" in complete_line_in_bash(f"pgshift --url {url} ", tmp_path)
    assert complete_line_in_bash(f"pgshift --url {url} sq", tmp_path) == ["squash"]
    assert complete_line_in_bash(f"pgshift --url {url} dump --ou", tmp_path) == ["--output"]
    assert complete_line_in_bash(f"pgshift --url={url} do", tmp_path) == ["doctor", "down"]


def test_fish_completes_short_options_and_directories() -> None:
    text = script(build_parser(), "fish")
    assert ("complete -c pgshift -n '__fish_seen_subcommand_from dump' -s o -l output -rF"
            in text)
    assert "-l dir -xa '(__fish_complete_directories)'" in text


@pytest.mark.skipif(shutil.which("fish") is None, reason="needs fish")
def test_fish_offers_files_after_a_short_path_option(tmp_path: Path) -> None:
    (tmp_path / "completions.fish").write_text(script(build_parser(), "fish"))
    (tmp_path / "schema.sql").touch()
    done = subprocess.run(["fish", "--no-config", "-c", "source completions.fish; "
                           "complete -C 'pgshift dump -o sch'; complete -C 'pgshift compl'"],
                          capture_output=True, text=True, timeout=20, cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    offered = [line.split("\t")[0] for line in done.stdout.splitlines()]
    assert offered == ["schema.sql", "completion"]
