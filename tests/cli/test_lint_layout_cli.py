"""``pgshift lint`` fails, exit 2, on what ``pgshift up --dry-run`` refuses before running
anything, saying what up says: the same message and hint, at the same file and line."""

from __future__ import annotations

import json
import os
import subprocess
from collections.abc import Callable
from pathlib import Path

import pytest

DOWN = "\n-- pgshift:down\nSELECT 1;\n"
Cli = Callable[..., subprocess.CompletedProcess]


def write(directory: Path, files: dict[str, str]) -> None:
    for name, text in files.items():
        path = directory / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, "utf-8")


def up_error(cli: Cli, cwd: Path, *options: str) -> tuple[str, str]:
    """``(where, what)`` of up's one-line error: ``V1__a.sql:3`` and the message and hint."""
    result = cli(*options, "up", "--dry-run", cwd=cwd)
    assert result.returncode == 2, result.stderr
    lines = [line for line in result.stderr.splitlines() if line.strip()]
    assert len(lines) == 1 and lines[0].startswith("pgshift: error: "), result.stderr
    where, _, what = lines[0].removeprefix("pgshift: error: ").partition(": ")
    return where, what


def lint_failure(cli: Cli, cwd: Path, *paths: str) -> str:
    """lint's one line for a file it cannot lint (exit 2)."""
    result = cli("lint", *paths, cwd=cwd)
    assert result.returncode == 2, result.stdout + result.stderr
    assert result.stderr == ""
    [line] = [line for line in result.stdout.splitlines() if ": cannot lint: " in line]
    return line


@pytest.mark.parametrize("files", [
    pytest.param({"V1__t.sql": "CREATE TABLE t (id int);\nCOPY t FROM stdin;\n1\n\\.\n" + DOWN},
                 id="copy-from-stdin"),
    pytest.param({"V1__t.sql": "COPY (SELECT 1) TO stdout;\n" + DOWN}, id="copy-to-stdout"),
    pytest.param({"a/V1__a.sql": "SELECT 1;" + DOWN, "b/V1__a.sql": "SELECT 1;" + DOWN},
                 id="same-name-in-two-subfolders"),
    pytest.param({"V1__a.sql": "SELECT 1;" + DOWN, "callbacks/V2__b.sql": "SELECT 1;" + DOWN},
                 id="migration-in-callbacks-folder"),
    pytest.param({"V1__a.sql": "SELECT 1;" + DOWN, "r1/beforeMigrate.sql": "SELECT 1;\n"},
                 id="callback-in-a-subfolder"),
    pytest.param({"V1__a.sql": "SELECT 1;\n", "U1__a.sql": "-- pgshift:no-transaction\n"
                  "SELECT 1;\n"}, id="directive-in-undo-file"),
    pytest.param({"V1__a.sql": "SELECT 1;\n", "U1__a.sql": "-- PGSHIFT:ignore x\nSELECT 1;\n"},
                 id="near-miss-directive-in-undo-file"),
    pytest.param({"V1__a.sql": "SELECT 1;" + DOWN, "V001__b.sql": "SELECT 1;" + DOWN},
                 id="duplicate-version"),
    pytest.param({"V1__a.sql": "SELECT 1;" + DOWN, "notes.sql": "SELECT 1;\n"},
                 id="name-no-migration-has"),
])
def test_lint_exits_2_with_ups_message_where_up_refuses_the_directory(
        cli: Cli, migrations_dir: Path, files: dict[str, str]) -> None:
    write(migrations_dir, files)
    cwd = migrations_dir.parent
    # The configured directory (an absolute path), or one named (as the messages then say).
    for options, paths in (((), ()), (("--dir", "migrations"), ("migrations",))):
        where, what = up_error(cli, cwd, *options)
        line = lint_failure(cli, cwd, *paths)
        path, _, message = line.partition(": cannot lint: ")
        assert message == what
        assert path.startswith("migrations/") and path.endswith(where), (path, where)


def test_lint_refuses_a_dangling_folder_link_as_up_does(cli: Cli, migrations_dir: Path) -> None:
    write(migrations_dir, {"V1__a.sql": "SELECT 1;" + DOWN})
    os.symlink(migrations_dir.parent / "gone", migrations_dir / "release_1")
    where, what = up_error(cli, migrations_dir.parent)
    assert lint_failure(cli, migrations_dir.parent) == f"migrations/{where}: cannot lint: {what}"
    assert what.startswith("a link to nothing")


def test_lint_of_one_file_refuses_its_copy_from_stdin_as_up_does(
        cli: Cli, migrations_dir: Path) -> None:
    write(migrations_dir, {"V1__t.sql": "CREATE TABLE t (id int);\nCOPY t FROM stdin;\n" + DOWN})
    where, what = up_error(cli, migrations_dir.parent)
    line = lint_failure(cli, migrations_dir.parent, "migrations/V1__t.sql")
    assert line == f"migrations/{where}: cannot lint: {what}"
    assert where == "V1__t.sql:2" and what.startswith("COPY … FROM stdin: ")


def test_lint_of_one_file_lints_just_that_file(cli: Cli, migrations_dir: Path) -> None:
    write(migrations_dir, {"a/V1__a.sql": "SELECT 1;" + DOWN, "b/V1__a.sql": "SELECT 1;" + DOWN,
                           "a/V2__b.sql": "CREATE TABLE t (id bigint);" + DOWN})
    result = cli("lint", "migrations/a/V2__b.sql", cwd=migrations_dir.parent)
    assert result.returncode == 0, result.stdout
    assert "0 errors, 0 warnings in 1 file" in result.stdout


def test_lint_json_lists_the_refusal_without_a_line_when_up_names_none(
        cli: Cli, migrations_dir: Path) -> None:
    write(migrations_dir, {"a/V1__a.sql": "SELECT 1;" + DOWN, "b/V1__a.sql": "SELECT 1;" + DOWN})
    result = cli("lint", "--format", "json", cwd=migrations_dir.parent)
    assert result.returncode == 2
    [failure] = json.loads(result.stdout)["failures"]
    assert failure["path"] == "migrations/b/V1__a.sql" and failure["line"] is None
    assert failure["message"].startswith("two files have this name")


def test_a_clean_directory_still_passes_lint_and_up(cli: Cli, migrations_dir: Path) -> None:
    write(migrations_dir, {"V1__t.sql": "CREATE TABLE t (id bigint);\n-- pgshift:down\n"
                                        "DROP TABLE t;\n",
                           "callbacks/afterMigrate.sql": "SELECT 1;\n",
                           "release_2/V2__u.sql": "CREATE TABLE u (id bigint);" + DOWN})
    cwd = migrations_dir.parent
    assert cli("lint", cwd=cwd).returncode == 0
    assert cli("up", "--dry-run", cwd=cwd).returncode == 0
