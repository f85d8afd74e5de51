"""Bad configuration on the command line: one line naming where, exit 2, never a password.

No database is needed: each run fails before it would connect.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

SECRET = "Sup3r$ecret/Pa55"
ENCODED = "Sup3r%24ecret%2FPa55"


def run(folder: Path, *args: str, **env: str) -> subprocess.CompletedProcess[str]:
    base = {k: v for k, v in os.environ.items()
            if not k.startswith(("PGSHIFT_", "PG")) and k != "DATABASE_URL"}
    return subprocess.run([sys.executable, "-m", "pgshift", *args], cwd=folder,
                          env={**base, "PGSHIFT_LINT": "false", **env},
                          capture_output=True, text=True, timeout=60)


def one_error_line(result: subprocess.CompletedProcess[str], code: int = 2) -> str:
    assert result.returncode == code, result.stderr
    lines = [line for line in result.stderr.splitlines() if line.strip()]
    assert len(lines) == 1 and lines[0].startswith("pgshift: error: "), result.stderr
    assert SECRET not in result.stdout + result.stderr
    assert ENCODED not in result.stdout + result.stderr
    return lines[0]


@pytest.fixture
def project(tmp_path: Path) -> Path:
    (tmp_path / "migrations").mkdir()
    return tmp_path


@pytest.mark.parametrize(("text", "expected"), [
    (f'url = "postgresql://app:{ENCODED}@db/app"\nlock-timeout = \n',
     "pgshift.toml:2: invalid TOML: Invalid value (column 16)"),
    ("timeout = [\n", "pgshift.toml:1: invalid TOML: "),
    (b'schema = "caf\xe9"\n', "pgshift.toml:1: not valid UTF-8 (byte 0xe9)"),
    (f'url = "postgresql://app:{ENCODED}@db/app"\ntimeout = "10 minutes"\n',
     "pgshift.toml: timeout: not a duration: '10 minutes'"),
    ("[lint]\nselekt = []\n", "pgshift.toml: unknown key 'lint.selekt'"),
])
def test_a_broken_config_file_is_one_line_naming_file_and_line(
    project: Path, text: str | bytes, expected: str
) -> None:
    path = project / "pgshift.toml"
    path.write_bytes(text if isinstance(text, bytes) else text.encode())
    for args in (("status",), ("up",), ("status", "--debug")):
        result = run(project, *args)
        if "--debug" in args:  # the traceback comes first, then the one line
            assert result.returncode == 2 and SECRET not in result.stderr
            assert result.stderr.strip().splitlines()[-1].startswith(f"pgshift: error: {expected}")
            continue
        assert one_error_line(result).startswith(f"pgshift: error: {expected}")


def test_a_pgshift_toml_directory_is_an_error_not_a_reason_to_look_further_up(
    project: Path
) -> None:
    (project / "pgshift.toml").write_text('schema = "parent"\n')
    child = project / "child"
    (child / "migrations").mkdir(parents=True)
    (child / "pgshift.toml").mkdir()
    line = one_error_line(run(child, "status"))
    assert "pgshift.toml: not a regular file" in line and "(hint: remove it" in line


@pytest.mark.parametrize(("args", "env", "expected"), [
    (("--config", "nowhere.toml"), {}, "config file not found: nowhere.toml"),
    (("--config", ""), {}, "--config is empty"),
    (("--config", "."), {}, "--config names a directory, not a config file: ."),
    ((), {"PGSHIFT_CONFIG": "/no/such.toml"}, "config file not found: /no/such.toml"),
    ((), {"PGSHIFT_TIMEOUT": "10 minutes"}, "PGSHIFT_TIMEOUT: not a duration: '10 minutes'"),
    ((), {"PGSHIFT_LOCK_RETRIES": "١٠"}, "PGSHIFT_LOCK_RETRIES: not a whole number: '١٠'"),
    (("--lock-timeout", "1e3s"), {}, "--lock-timeout: not a duration: '1e3s'"),
    (("--timeout=-5s",), {}, "--timeout: a duration cannot be negative: '-5s'"),
    (("--url", ""), {}, "--url is empty"),
    (("--dir", ""), {}, "--dir: an empty path"),
])
def test_a_bad_setting_names_its_flag_variable_or_file(
    project: Path, args: tuple[str, ...], env: dict[str, str], expected: str
) -> None:
    line = one_error_line(run(project, *args, "status", **env))
    assert line.startswith(f"pgshift: error: {expected}"), line


def test_an_empty_variable_counts_as_unset(project: Path) -> None:
    (project / "pgshift.toml").write_text('timeout = "nope"\n')
    line = one_error_line(run(project, "status", PGSHIFT_CONFIG="", PGSHIFT_TIMEOUT=""))
    assert "pgshift.toml: timeout: not a duration: 'nope'" in line


@pytest.mark.parametrize("url", [
    f"postgresql://app:{ENCODED}@db.invalid/app",
    f"postgresql://app:{SECRET}@db.invalid/app",  # unencoded: libpq misreads it
    f"host=db.invalid user=app password='{SECRET}'",
])
def test_the_password_of_a_url_the_command_line_refuses_is_masked(
    project: Path, url: str
) -> None:
    """argparse's errors come before any settings: they still know the --url's password."""
    for args in (("--url", url, "status", "--bogus"), (f"--url={url}", "bogus-command"),
                 ("--ur", url, "status", "extra")):
        line = one_error_line(run(project, *args))
        assert "(hint: 'pgshift" in line


def test_a_config_files_url_password_is_masked_in_errors_about_it(project: Path) -> None:
    (project / "pgshift.toml").write_text(
        f'url = "postgresql://app:{ENCODED}@127.0.0.1:1/app?sslmode=bogus"\n')
    for args in (("status",), ("up", "--debug"), ("doctor",)):
        result = run(project, *args)
        assert result.returncode in (1, 2), result.stderr
        assert SECRET not in result.stdout + result.stderr
        assert ENCODED not in result.stdout + result.stderr
    line = one_error_line(run(project, "status"))
    assert 'invalid sslmode value: "bogus"' in line and "sslmode is one of" in line


def test_a_bug_while_building_the_parser_is_one_internal_error_line(project: Path) -> None:
    code = ("import pgshift.cli.commands as c\n"
            "def broken(*a, **k):\n"
            f"    raise RuntimeError('no parser for postgresql://u:{ENCODED}@db/app')\n"
            "c.register = broken\n"
            "from pgshift.cli.main import main\n"
            f"raise SystemExit(main(['--url', 'postgresql://u:{ENCODED}@db/app', 'status']))\n")
    result = subprocess.run([sys.executable, "-c", code], cwd=project, capture_output=True,
                            text=True, timeout=60)
    line = one_error_line(result, code=70)
    assert "internal error: RuntimeError: no parser for postgresql://u:***@db/app" in line
