"""The documentation tells the truth: every option it gives a command is one the command takes,
every setting is in the README's configuration, the README's exit codes are the errors' and
the help's, and its examples (config paths, the library snippet, `dump --embedded` on the
expand/contract migrations the demo ships) do what it says."""

from __future__ import annotations

import argparse
import re
from dataclasses import fields
from pathlib import Path

import pgshift
from pgshift import errors
from pgshift.cli.main import build_parser
from pgshift.config import NOT_CONFIGURABLE, Settings, load

ROOT = Path(__file__).resolve().parents[2]
DOCS = ["README.md", "docs/ci.md", "docs/coming-from.md", "docs/zero-downtime.md",
        "examples/github-actions.yml"]


def _options_by_command() -> dict[str, set[str]]:
    parser = build_parser()
    sub = next(a for a in parser._actions if isinstance(a, argparse._SubParsersAction))
    return {name: {o for a in p._actions for o in a.option_strings}
            for name, p in sub.choices.items()}


def _readme_section(title: str) -> str:
    text = (ROOT / "README.md").read_text(encoding="utf-8")
    start = text.index(f"\n## {title}\n")
    return text[start:text.index("\n## ", start + 1)]


def test_every_option_the_docs_give_a_command_is_one_it_takes() -> None:
    options = _options_by_command()
    wrong = []
    for doc in DOCS:
        text = (ROOT / doc).read_text(encoding="utf-8")
        # `pgshift CMD …` up to the end of its code span, table cell or paragraph
        for found in re.finditer(r"pgshift ([a-z-]+)((?:[^`\n|]|\n(?!\n))*)", text):
            command, rest = found[1], found[2]
            if command not in options:
                continue
            for option in re.findall(r"(?<![\w-])(--[a-z][a-z-]*)", rest):
                if option not in options[command]:
                    wrong.append(f"{doc}: pgshift {command} {option}")
    assert wrong == []


def test_every_setting_is_in_the_readmes_configuration() -> None:
    section = _readme_section("Configuration")
    keys = {f.name for f in fields(Settings)} - NOT_CONFIGURABLE
    # [lint]'s keys are written without their prefix; targets are documented in coming-from.
    missing = [key for key in sorted(keys - {"targets"})
               if not re.search(rf"(?m)^#? ?{key.removeprefix('lint_').replace('_', '-')} = "
                                rf"|[;(] ?{key.removeprefix('lint_')} = |^\[{key}\]", section)]
    assert missing == []
    assert "PGSHIFT_CONFIG" in section


def test_the_readmes_config_example_loads_with_every_key_uncommented(tmp_path: Path) -> None:
    example = _readme_section("Configuration").split("```toml\n", 1)[1].split("```", 1)[0]
    (tmp_path / "pgshift.toml").write_text(re.sub(r"(?m)^# ([a-z-]+ = )", r"\1", example))
    settings = load(cwd=tmp_path, env={})
    assert (settings.flavor, settings.lint_runner, settings.pg_version) == ("flyway", "pgshift",
                                                                           15)


def test_the_readmes_exit_codes_are_the_errors_and_the_helps() -> None:
    table = _readme_section("Commands").split("### Exit codes", 1)[1].split("\n\n")[1]
    documented = set(re.findall(r"(?m)^\| (\d+)(?: / (\d+))? \|", table))
    codes = {int(c) for pair in documented for c in pair if c}
    raised = {cls.exit_code for cls in vars(errors).values()
              if isinstance(cls, type) and issubclass(cls, errors.PgshiftError)}
    assert codes == raised | {0, 130, 143}
    epilog = build_parser().epilog or ""
    assert {int(c) for c in re.findall(r"\b(\d+)(?=[ /])", epilog)} == codes


def test_config_file_paths_are_relative_to_the_file_from_any_working_directory(
        tmp_path: Path) -> None:
    (tmp_path / "pgshift.toml").write_text(
        'dir = "db/migrations"\ncache-dir = "cache"\npg-dump = "bin/pg_dump"\n'
        'schema-file = "db/schema.sql"\n[lint]\nschema = "db/lint.sql"\n')
    below = tmp_path / "app" / "src"
    below.mkdir(parents=True)
    settings = load(cwd=below, env={})
    assert (settings.dir, settings.cache_dir, settings.pg_dump, settings.schema_file,
            settings.lint_schema) == (tmp_path / "db/migrations", tmp_path / "cache",
                                      tmp_path / "bin/pg_dump", tmp_path / "db/schema.sql",
                                      tmp_path / "db/lint.sql")


def test_a_home_relative_path_in_the_config_file_is_the_users_home(tmp_path: Path,
                                                                   monkeypatch) -> None:
    monkeypatch.setenv("HOME", str(tmp_path / "home"))
    (tmp_path / "pgshift.toml").write_text('cache-dir = "~/.cache/pgshift"\n')
    assert load(cwd=tmp_path, env={}).cache_dir == tmp_path / "home/.cache/pgshift"


def test_the_readmes_library_example_runs_as_written(settings, write_migration) -> None:
    write_migration("V11__a.sql", "CREATE TABLE a (id int);", "DROP TABLE a;")
    write_migration("V12__b.sql", "CREATE TABLE b (id int);", "DROP TABLE b;")
    loaded = pgshift.load_settings(url=settings.url, dir=str(settings.dir))
    plan = pgshift.status(loaded)
    assert [(i.state, i.entry, i.migration.version.text) for i in plan.items] == [
        ("pending", None, "11"), ("pending", None, "12")]
    result = pgshift.up(loaded, to="12")
    assert [(o.migration.version.text, o.attempts) for o in result.outcomes] == [("11", 1),
                                                                                ("12", 1)]
    assert all(o.duration_ms >= 0 for o in result.outcomes)
    assert [o.migration.version.text for o in pgshift.down(loaded, steps=1).outcomes] == ["12"]


EXPAND_THEN_CONTRACT = {
    "V1__add_full_name.sql": ("ALTER TABLE people ADD COLUMN full_name text;",
                              "ALTER TABLE people DROP COLUMN full_name;"),
    "V2__drop_name.sql": ("ALTER TABLE people DROP COLUMN name;",
                          "ALTER TABLE people ADD COLUMN name text;"),
}


def test_dump_embedded_applies_a_contract_migration_with_its_expand_one(
        cli, write_migration, server_version: int, tmp_path: Path) -> None:
    """README's deploy table runs `pgshift dump --embedded --check` on pull requests: on the
    throwaway server every migration runs, as verify and squash replay them."""
    write_migration("V0__people.sql", "CREATE TABLE people (id int, name text);",
                    "DROP TABLE people;")
    for name, (up, down) in EXPAND_THEN_CONTRACT.items():
        write_migration(name, up, down)
    alone = {"PGSHIFT_URL": "", "PGSHIFT_PG_VERSION": str(server_version // 10000)}
    result = cli("dump", "--embedded", env=alone, timeout=120)
    assert result.returncode == 0, result.stderr
    assert "full_name text" in result.stdout and "    name text" not in result.stdout


def test_dump_embedded_check_names_the_migrations_not_the_database_as_its_source(
        cli, write_migration, server_version: int, tmp_path: Path) -> None:
    write_migration("V0__people.sql", "CREATE TABLE people (id int, name text);",
                    "DROP TABLE people;")
    alone = {"PGSHIFT_URL": "", "PGSHIFT_PG_VERSION": str(server_version // 10000)}
    stale = tmp_path / "schema.sql"
    stale.write_text("-- nothing yet\n")
    result = cli("dump", "--embedded", "--check", "-o", str(stale), env=alone, timeout=120)
    assert result.returncode != 0
    assert "+++ what the migrations make" in result.stdout + result.stderr
