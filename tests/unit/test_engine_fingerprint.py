"""The linter's fingerprint (part of every remembered gate pass) follows its source files."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from pgshift.lint import cache
from pgshift.lint.cache import _sources, engine_fingerprint


def tree(root: Path) -> None:
    for name in ("a.py", "rules/b.py", "rules/deep/c.py", "rules/notes.txt",
                 "__pycache__/a.cpython-311.pyc", "parser.so", "parsers.pyi", "other.so"):
        (root / name).parent.mkdir(parents=True, exist_ok=True)
        (root / name).write_text(name)


def names(found: list[tuple[str, os.stat_result]], root: Path) -> list[str]:
    return sorted(str(Path(path).relative_to(root)) for path, _ in found)


def test_sources_are_every_python_file_below_and_no_cache(tmp_path: Path) -> None:
    tree(tmp_path)
    assert names(_sources(str(tmp_path)), tmp_path) == ["a.py", "rules/b.py", "rules/deep/c.py"]


def test_a_prefix_lists_the_named_files_of_one_folder(tmp_path: Path) -> None:
    tree(tmp_path)
    assert names(_sources(str(tmp_path), prefix="parser", deep=False), tmp_path) == [
        "parser.so", "parsers.pyi"]


def package(root: Path) -> Path:
    """A pgshift package: lint/ (as ``tree``) beside up's readers of files."""
    tree(root / "lint")
    for name in ("migrations/parse.py", "placeholders.py", "callbacks.py"):
        (root / name).parent.mkdir(parents=True, exist_ok=True)
        (root / name).write_text(name)
    return root / "lint"


@pytest.mark.parametrize("edited", ["lint/rules/deep/c.py", "migrations/parse.py",
                                    "placeholders.py", "callbacks.py"])
def test_an_edited_rule_or_reader_of_files_lint_calls_changes_the_fingerprint(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch, edited: str) -> None:
    """Lint reports up's refusals of a file (parse, split, discovery): a cached pass made by
    an older reader would hide a refusal the new one makes."""
    monkeypatch.setattr(cache, "__file__", str(package(tmp_path) / "cache.py"))
    before = engine_fingerprint()
    assert engine_fingerprint() == before
    (tmp_path / edited).write_text("changed, and longer")
    assert engine_fingerprint() != before
