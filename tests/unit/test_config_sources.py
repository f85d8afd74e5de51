"""Config files, variables and flags that are wrong: each a ConfigError that says where."""

from __future__ import annotations

import datetime
import os
from pathlib import Path

import pytest
from tests.fixtures.project import write_file

from pgshift import config_file
from pgshift.config import load, parse_duration
from pgshift.errors import ConfigError


def write(folder: Path, text: str | bytes, name: str = "pgshift.toml") -> Path:
    return write_file(folder / name, text)


@pytest.fixture(autouse=True)
def in_the_project(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Errors name config files as seen from the working directory: the project's here."""
    monkeypatch.chdir(tmp_path)


def refused(folder: Path, **kwargs: object) -> ConfigError:
    with pytest.raises(ConfigError) as caught:
        load(cwd=folder, **{"env": {}, **kwargs})  # type: ignore[arg-type]
    return caught.value


# -- the file itself -------------------------------------------------------------------------


@pytest.mark.parametrize(("text", "line"), [
    ('schema = "ops"\nlock-timeout = \n', 2),
    ('schema = "ops"\n\n[lint\nselect = []\n', 3),
    ('schema = "ops"\ntimeout = [\n', 2),  # cut off: the error is at the end of the file
    ('a = 1\na = 2\n', 2),
])
def test_a_toml_syntax_error_names_the_file_and_line(tmp_path: Path, text: str,
                                                     line: int) -> None:
    error = refused(tmp_path, config=write(tmp_path, text))
    assert (error.path, error.line) == (str(tmp_path / "pgshift.toml"), line)
    assert str(error).startswith(f"pgshift.toml:{line}: invalid TOML: ")


def test_a_parents_config_file_is_named_as_found_from_the_working_directory(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Every project's file is called pgshift.toml: the name alone would not say which."""
    write(tmp_path, 'lock_timeout = "soon"\n')
    (tmp_path / "app" / "db").mkdir(parents=True)
    monkeypatch.chdir(tmp_path / "app")
    assert str(refused(tmp_path / "app")).startswith("../pgshift.toml: lock_timeout: ")
    monkeypatch.chdir(tmp_path / "app" / "db")
    assert str(refused(tmp_path / "app" / "db")).startswith(
        f"{tmp_path / 'pgshift.toml'}: lock_timeout: ")


def test_a_config_file_that_is_not_utf8_names_the_line(tmp_path: Path) -> None:
    write(tmp_path, b'schema = "ops"\n# caf\xe9\n')
    assert str(refused(tmp_path)) == "pgshift.toml:2: not valid UTF-8 (byte 0xe9)"


def test_a_pgshift_toml_that_is_a_directory_or_a_dangling_link_is_not_skipped(
    tmp_path: Path
) -> None:
    """Skipping it would silently apply another project's settings from further up."""
    write(tmp_path, 'schema = "parent"\n')
    project = tmp_path / "project"
    (project / "pgshift.toml").mkdir(parents=True)
    assert "not a regular file" in str(refused(project))
    (project / "pgshift.toml").rmdir()
    (project / "pgshift.toml").symlink_to(project / "gone.toml")
    assert refused(project).path == str(project / "pgshift.toml")


def test_a_huge_config_file_is_refused_before_it_is_read(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(config_file, "MAX_CONFIG_BYTES", 100)
    write(tmp_path, "# " + "x" * 200 + '\nschema = "ops"\n')
    assert "not a config file" in refused(tmp_path).message


def test_an_unreadable_config_file_says_why(tmp_path: Path,
                                            monkeypatch: pytest.MonkeyPatch) -> None:
    path = write(tmp_path, 'schema = "ops"\n')

    def denied(self: Path, *args: object, **kwargs: object) -> None:
        raise PermissionError(13, "Permission denied", str(self))

    monkeypatch.setattr(Path, "open", denied)
    error = refused(tmp_path)
    assert error.message == "cannot read config: Permission denied"
    assert error.path == str(path)


# -- finding it ------------------------------------------------------------------------------


@pytest.mark.parametrize("pyproject", [
    '[project]\nname = "app"\n',
    '# settings: see [tool.pgshift] in the README\n[project]\nname = "app"\n',
    '[project]\ndescription = """\n[tool.pgshift]\n"""\n',
    '[project.scripts]\npgshift = "pgshift.cli.main:run"\n',
])
def test_a_pyproject_without_a_pgshift_table_does_not_hide_a_pgshift_toml_above_it(
    tmp_path: Path, pyproject: str
) -> None:
    write(tmp_path, 'schema = "ops"\n')
    project = tmp_path / "project"
    project.mkdir()
    write(project, pyproject, "pyproject.toml")
    settings = load(cwd=project, env={})
    assert settings.schema == "ops" and settings.config_path == tmp_path / "pgshift.toml"


@pytest.mark.parametrize("pyproject", [
    '[tool.pgshift]\nschema = "ops"\n',
    '[tool . "pgshift"]\nschema = "ops"\n',
    '[tool]\npgshift = { schema = "ops" }\n',
    'tool.pgshift.schema = "ops"\n',
    '[tool.pgshift.lint]\nselect = ["x"]\n[tool.pgshift]\nschema = "ops"\n',
])
def test_every_way_to_write_tool_pgshift_is_found(tmp_path: Path, pyproject: str) -> None:
    write(tmp_path, pyproject, "pyproject.toml")
    assert load(cwd=tmp_path, env={}).schema == "ops"


def test_a_broken_pyproject_with_a_pgshift_table_names_its_line(tmp_path: Path) -> None:
    write(tmp_path, '[tool.pgshift]\nschema = "ops\n', "pyproject.toml")
    assert str(refused(tmp_path)).startswith("pyproject.toml:2: invalid TOML")


def test_a_pyproject_that_is_not_utf8_and_not_ours_is_no_error(tmp_path: Path) -> None:
    write(tmp_path, b'[project]\nname = "caf\xe9"\n', "pyproject.toml")
    assert load(cwd=tmp_path, env={}).config_path is None


def test_config_flag_pointing_nowhere_names_the_path(tmp_path: Path) -> None:
    error = refused(tmp_path, config="nowhere/pgshift.toml")
    assert error.message == "config file not found: nowhere/pgshift.toml"
    assert "--config" in (error.hint or "")
    error = refused(tmp_path, env={"PGSHIFT_CONFIG": "/no/such.toml"})
    assert "/no/such.toml" in error.message and "PGSHIFT_CONFIG" in (error.hint or "")


@pytest.mark.parametrize(("given", "expected"), [
    ("", "--config is empty"),
    (" ", "--config is empty"),
    (".", "--config names a directory, not a config file: ."),
    ("/dev/null", "--config names no regular file, not a config file: /dev/null"),
])
def test_config_flag_naming_no_file_is_refused(tmp_path: Path, given: str,
                                               expected: str) -> None:
    assert refused(tmp_path, config=given).message == expected


def test_config_path_is_relative_to_the_working_directory(tmp_path: Path) -> None:
    write(tmp_path, 'schema = "ops"\n', "other.toml")
    assert load(cwd=tmp_path, env={}, config="other.toml").schema == "ops"
    assert load(cwd=tmp_path, env={"PGSHIFT_CONFIG": "other.toml"}).schema == "ops"


def test_an_empty_pgshift_config_variable_is_unset(tmp_path: Path) -> None:
    write(tmp_path, 'schema = "ops"\n')
    assert load(cwd=tmp_path, env={"PGSHIFT_CONFIG": ""}).schema == "ops"


# -- values ----------------------------------------------------------------------------------


@pytest.mark.parametrize("text", [
    "10 minutes", "1e3s", "1E3", "١٠s", "10s\u00a0x", "1_000s", "0x10", "", "  ", "s", "ms", "5 5s",
    "inf", "nan", "--5s", "5d", True, [1], {"a": 1}, datetime.date(2024, 1, 1), None,
])
def test_a_duration_is_a_plain_number_and_a_unit(text: object) -> None:
    with pytest.raises(ValueError, match="not a duration"):
        parse_duration(text)  # type: ignore[arg-type]


@pytest.mark.parametrize(("text", "seconds"), [
    (" 3 S ", 3.0), (".5s", 0.5), ("10 min", 600.0), ("2.", 2.0), ("+3s", 3.0), (0, 0.0),
    (2.5, 2.5), ("0", 0.0),
])
def test_durations_in_every_accepted_form(text: str | float, seconds: float) -> None:
    assert parse_duration(text) == seconds


@pytest.mark.parametrize("text", ["-5s", -5, -0.001, "-1ms"])
def test_a_negative_duration_says_so(text: str | float) -> None:
    with pytest.raises(ValueError, match="cannot be negative"):
        parse_duration(text)


@pytest.mark.parametrize(("line", "message"), [
    ("lock-retries = true", "lock_retries: not a whole number: 'true'"),
    ('lock-retries = "١٠"', "lock_retries: not a whole number: '١٠'"),
    ('lock-retries = "1_0"', "lock_retries: not a whole number: '1_0'"),
    ('lock-retries = "3.5"', "lock_retries: not a whole number: '3.5'"),
    ("lock-retries = 3.5", "lock_retries: not a whole number: 3.5"),
    ("lock-retries = -1", "lock_retries: -1 is out of range (0 to 1000)"),
    ('lock-timeout = "10 minutes"', "lock_timeout: not a duration: '10 minutes'"),
    ("lock-timeout = true", "lock_timeout: not a duration: 'true'"),
    ("timeout = -5", "timeout: a duration cannot be negative: '-5'"),
    ("timeout = 1979-05-27", "timeout: not a duration: '1979-05-27'"),
    ("url = 5", "url: must be a string, not an integer: 5"),
    ('url = ["postgresql://db/app"]', "url: must be a string, not an array"),
    ("schema = 5", "schema: must be a string, not an integer"),
    ("application-name = false", "application_name: must be a string, not a boolean: false"),
    ("dir = 5", "dir: must be a string, not an integer"),
    ("dir = { path = 'x' }", "dir: must be a string, not a table"),
    ("lint = 2", "lint: not a boolean: '2'"),
    ("single-transaction = 'maybe'", "single_transaction: not a boolean: 'maybe'"),
    ("[lint]\nselect = 5", "lint.select: must be an array of strings, not an integer"),
    ("[lint]\nselect = ['x', 1]", "lint.select: must be an array of strings; 1 is an integer"),
    ("[lint]\nrunner = 5", "lint.runner: must be a string, not an integer"),
    ("[placeholders]\nroles = ['a', 'b']", "placeholders: placeholder 'roles' must be a "
                                           "string, not an array"),
])
def test_a_value_of_the_wrong_type_names_the_key_and_the_file(
    tmp_path: Path, line: str, message: str
) -> None:
    path = write(tmp_path, line + "\n")
    error = refused(tmp_path)
    assert error.message.startswith(message), error.message
    assert error.path == str(path)


@pytest.mark.parametrize(("text", "key"), [
    ("lock_timout = '2s'", "lock_timout"),
    ("[lint]\nselekt = []", "lint.selekt"),
    ("[lint.rules]\nx = 1", "lint.rules"),
    ("[database]\nurl = 'x'", "database"),
    ("[tool.pgshift]\nschema = 'x'", "tool"),
    ("config-path = 'x'", "config-path"),
    ("Schema = 'x'", "Schema"),
])
def test_an_unknown_key_in_any_section_names_the_key_and_the_file(
    tmp_path: Path, text: str, key: str
) -> None:
    path = write(tmp_path, text + "\n")
    error = refused(tmp_path)
    assert error.message == f"unknown key '{key}'" and error.path == str(path)


def test_a_setting_written_twice_in_one_file_is_refused(tmp_path: Path) -> None:
    write(tmp_path, 'lock-timeout = "1s"\nlock_timeout = "2s"\n')
    assert "'lock_timeout' sets what 'lock-timeout' already set" in refused(tmp_path).message
    write(tmp_path, 'lint-select = ["a"]\n[lint]\nselect = ["b"]\n')
    assert "already set" in refused(tmp_path).message


def test_placeholder_values_in_toml_are_text(tmp_path: Path) -> None:
    write(tmp_path, "[placeholders]\nn = 1\nflag = true\nname = 'x'\n")
    assert load(cwd=tmp_path, env={}).placeholders == {"n": "1", "flag": "true", "name": "x"}


# -- the environment and flags ---------------------------------------------------------------


@pytest.mark.parametrize("value", ["", " ", "\t"])
def test_an_environment_variable_set_to_nothing_is_unset(tmp_path: Path, value: str) -> None:
    write(tmp_path, 'timeout = "5m"\nschema = "ops"\n')
    env = {"PGSHIFT_TIMEOUT": value, "PGSHIFT_SCHEMA": value, "PGSHIFT_URL": value,
           "DATABASE_URL": value, "PGSHIFT_LOCK_RETRIES": value, "PGSHIFT_DIR": value}
    settings = load(cwd=tmp_path, env=env)
    assert (settings.timeout, settings.schema, settings.url) == (300.0, "ops", None)


@pytest.mark.parametrize(("name", "meant"), [
    ("PGSHIFT_LOCK_TIMOUT", "PGSHIFT_LOCK_TIMEOUT"), ("PGSHIFT_DIRS", "PGSHIFT_DIR"),
    ("PGSHIFT_CONFG", "PGSHIFT_CONFIG"), ("PGSHIFT_LOCKRETRIES", "PGSHIFT_LOCK_RETRIES"),
])
def test_a_misspelt_variable_is_refused_not_ignored(tmp_path: Path, name: str,
                                                    meant: str) -> None:
    error = refused(tmp_path, env={name: "3s"})
    assert str(error) == f"{name} is not a pgshift variable (hint: did you mean {meant}?)"


@pytest.mark.parametrize("name", ["PGSHIFT_TARGETS", "PGSHIFT_PLACEHOLDERS"])
def test_a_variable_for_a_setting_only_the_file_holds_is_refused(tmp_path: Path,
                                                                name: str) -> None:
    assert "can only be set in the config file" in str(refused(tmp_path, env={name: "x"}))


def test_other_pgshift_variables_of_a_deploy_script_are_left_alone(tmp_path: Path) -> None:
    env = {"PGSHIFT_VERSION": "1.2", "PGSHIFT_HOME": "/opt", "PGSHIFT_TEST_PG": "18"}
    assert load(cwd=tmp_path, env=env).lock_timeout == 0.5


def test_a_bad_environment_value_names_the_variable(tmp_path: Path) -> None:
    for name, value in (("PGSHIFT_TIMEOUT", "10 minutes"), ("PGSHIFT_LOCK_RETRIES", "many"),
                        ("PGSHIFT_LINT", "perhaps"), ("PGSHIFT_SCHEMA", "pg_x")):
        error = refused(tmp_path, env={name: value})
        assert error.message.startswith(f"{name}: ") and error.path is None


def test_a_urls_blanks_are_not_part_of_it(tmp_path: Path) -> None:
    assert load(cwd=tmp_path, env={"PGSHIFT_URL": " postgresql://db/a\n"}).url == (
        "postgresql://db/a")
    assert load(cwd=tmp_path, env={"DATABASE_URL": "postgresql://db/b "}).url == (
        "postgresql://db/b")


@pytest.mark.parametrize(("flag", "value", "message"), [
    ("lock_timeout", "10 minutes", "--lock-timeout: not a duration: '10 minutes'"),
    ("timeout", "-5s", "--timeout: a duration cannot be negative"),
    ("lock_retries", "١٠", "--lock-retries: not a whole number"),
    ("connect_wait", "1e3s", "--connect-wait: not a duration"),
    ("dir", "", "--dir: an empty path"),
    ("dir", "  ", "--dir: an empty path"),
    ("url", "", "--url is empty"),
    ("url", " \n", "--url is empty"),
])
def test_a_bad_flag_names_the_flag(tmp_path: Path, flag: str, value: str,
                                   message: str) -> None:
    assert refused(tmp_path, **{flag: value}).message.startswith(message)


def test_an_empty_url_flag_never_falls_back_to_the_pg_variables(tmp_path: Path) -> None:
    """``--url "$UNSET"`` must not migrate whatever database PGHOST/PGDATABASE point at."""
    with pytest.raises(ConfigError, match="--url is empty"):
        load(cwd=tmp_path, env={**os.environ, "PGDATABASE": "prod"}, url="")
