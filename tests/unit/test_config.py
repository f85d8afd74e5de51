"""Settings precedence: defaults < config file < environment < flags; unknown keys refused."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from pgshift.config import Settings, load, parse_duration
from pgshift.errors import ConfigError, InputError
from pgshift.placeholders import check_resolved, substitute


def test_defaults_follow_the_spec() -> None:
    settings = Settings()
    assert settings.timeout == 600.0  # the spec's 10-minute budget
    assert settings.lock_timeout == 0.5
    assert settings.lock_wait == 60.0
    assert settings.dir == Path("migrations")


@pytest.mark.parametrize(
    ("text", "seconds"), [("500ms", 0.5), ("3s", 3.0), ("10m", 600.0), ("1h", 3600.0), (2, 2.0)]
)
def test_durations_accept_units(text: str | int, seconds: float) -> None:
    assert parse_duration(text) == seconds


def test_file_then_environment_then_flags(tmp_path: Path) -> None:
    (tmp_path / "pgshift.toml").write_text('lock-timeout = "2s"\ntimeout = "5m"\ndir = "db"\n')
    settings = load(cwd=tmp_path, env={"PGSHIFT_TIMEOUT": "7m"}, lock_retries="3")
    assert settings.lock_timeout == 2.0
    assert settings.timeout == 420.0
    assert settings.lock_retries == 3
    assert settings.dir == tmp_path / "db"
    assert settings.config_path == tmp_path / "pgshift.toml"
    assert load(cwd=tmp_path, env={}, lock_timeout="1s").lock_timeout == 1.0


def test_connect_wait_is_off_unless_asked_for_in_any_source(tmp_path: Path) -> None:
    assert Settings().connect_wait == 0.0
    (tmp_path / "pgshift.toml").write_text('connect-wait = "30s"\n')
    assert load(cwd=tmp_path, env={}).connect_wait == 30.0
    assert load(cwd=tmp_path, env={"PGSHIFT_CONNECT_WAIT": "2m"}).connect_wait == 120.0
    assert load(cwd=tmp_path, env={}, connect_wait="5s").connect_wait == 5.0


def test_schema_file_is_off_by_default_and_relative_to_its_config_file(tmp_path: Path) -> None:
    assert Settings().schema_file is None and Settings().pg_dump is None
    (tmp_path / "pgshift.toml").write_text('schema-file = "db/schema.sql"\n'
                                          'pg-dump = "/usr/lib/postgresql/15/bin/pg_dump"\n')
    settings = load(cwd=tmp_path, env={})
    assert settings.schema_file == tmp_path / "db" / "schema.sql"
    assert settings.pg_dump == Path("/usr/lib/postgresql/15/bin/pg_dump")
    assert load(cwd=tmp_path, env={"PGSHIFT_SCHEMA_FILE": "s.sql"}).schema_file == Path("s.sql")


def test_pyproject_tool_table_is_found_walking_up(tmp_path: Path) -> None:
    (tmp_path / "pyproject.toml").write_text(
        '[project]\nname = "x"\n[tool.pgshift]\nschema = "ops"\n'
    )
    nested = tmp_path / "a" / "b"
    nested.mkdir(parents=True)
    assert load(cwd=nested, env={}).schema == "ops"


def test_url_comes_from_pgshift_url_before_database_url() -> None:
    env = {"DATABASE_URL": "postgresql://db/a", "PGSHIFT_URL": "postgresql://db/b"}
    assert load(cwd=Path("/"), env=env).url == "postgresql://db/b"
    assert load(cwd=Path("/"), env={"DATABASE_URL": "postgresql://db/a"}).url == "postgresql://db/a"
    assert load(cwd=Path("/"), env={}).url is None  # libpq's PG* variables apply


def test_unknown_key_names_the_key_and_the_file(tmp_path: Path) -> None:
    (tmp_path / "pgshift.toml").write_text('lock_timout = "2s"\n')
    with pytest.raises(ConfigError, match="unknown key 'lock_timout'") as caught:
        load(cwd=tmp_path, env={})
    assert caught.value.path == str(tmp_path / "pgshift.toml")


def test_bad_values_are_config_errors(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match=r"^PGSHIFT_LOCK_TIMEOUT: not a duration: 'soon'"):
        load(cwd=tmp_path, env={"PGSHIFT_LOCK_TIMEOUT": "soon"})
    (tmp_path / "pgshift.toml").write_text("timeout = [\n")
    with pytest.raises(ConfigError, match="invalid TOML"):
        load(cwd=tmp_path, env={})


def test_missing_explicit_config_is_an_error(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="not found"):
        load(config=tmp_path / "nope.toml", env={})


def test_lint_table_sets_rules_runner_and_schema_file(tmp_path: Path) -> None:
    (tmp_path / "pgshift.toml").write_text(
        '[lint]\nselect = ["drop-column"]\nrunner = "psql"\n'
        'schema = "schema.sql"\npg-version = 13\n'
    )
    settings = load(cwd=tmp_path, env={})
    assert settings.lint_select == ("drop-column",)
    assert settings.lint_runner == "psql"
    assert settings.lint_schema == tmp_path / "schema.sql"
    assert settings.pg_version == 13
    (tmp_path / "pgshift.toml").write_text('[lint]\nrunner = "flyway"\n')
    with pytest.raises(ConfigError, match="runner must be"):
        load(cwd=tmp_path, env={})


def test_the_cache_lives_in_the_users_cache_dir_not_the_project(tmp_path: Path) -> None:
    assert load(cwd=tmp_path, env={"XDG_CACHE_HOME": "/c"}).cache_dir == Path("/c/pgshift")
    assert load(cwd=tmp_path, env={"HOME": "/h"}).cache_dir == Path("/h/.cache/pgshift")
    assert load(cwd=tmp_path, env={"PGSHIFT_CACHE_DIR": "/x"}).cache_dir == Path("/x")


@pytest.mark.parametrize("name", ['a"b', "pg_ops", "x" * 64, "a\0b"])
def test_a_schema_name_pgshift_cannot_use_is_refused_from_flag_and_file(
    tmp_path: Path, name: str
) -> None:
    with pytest.raises(ConfigError, match=r"^--schema: "):
        load(cwd=tmp_path, env={}, schema=name)
    escaped = name.replace("\\", "\\\\").replace('"', '\\"').replace("\0", "\\u0000")
    (tmp_path / "pgshift.toml").write_text(f'schema = "{escaped}"\n')
    with pytest.raises(ConfigError) as caught:
        load(cwd=tmp_path, env={})
    assert caught.value.message.startswith("schema: ")
    assert caught.value.path == str(tmp_path / "pgshift.toml")


@pytest.mark.parametrize("text", ["tool.pgshift = 1\n", "tool . 'pgshift' = [1]\n"])
def test_a_pyproject_whose_tool_pgshift_is_not_a_table_is_a_config_error(
    tmp_path: Path, text: str
) -> None:
    (tmp_path / "pyproject.toml").write_text(text)
    with pytest.raises(ConfigError, match=r"tool\.pgshift is not a table") as caught:
        load(cwd=tmp_path, env={})
    assert caught.value.path == str(tmp_path / "pyproject.toml")


def test_a_config_file_may_start_with_a_utf8_bom(tmp_path: Path) -> None:
    (tmp_path / "pgshift.toml").write_bytes(b'\xef\xbb\xbfschema = "ops"\n')
    assert load(cwd=tmp_path, env={}).schema == "ops"


@pytest.mark.parametrize("name", ["app_role", "app-role", "app.role"])
def test_the_placeholder_hint_names_a_variable_that_sets_that_placeholder(
    tmp_path: Path, name: str
) -> None:
    with pytest.raises(InputError) as caught:
        check_resolved(f"SELECT '${{{name}}}'", tmp_path / "V1__a.sql")
    variable = re.search(r"PGSHIFT_PLACEHOLDER_[^=\s']+", caught.value.hint or "")
    assert variable is not None
    values = load(cwd=tmp_path, env={variable[0]: "x"}).placeholders
    assert substitute(f"${{{name}}}", values) == "x"
