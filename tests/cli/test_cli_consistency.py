"""What a user coming from Flyway, dbmate, Alembic or squawk expects of any command line:
--version, "did you mean" for a near miss, the same flags where commands do the same thing,
JSON alone on stdout, and no escape codes where colour was turned off."""

from __future__ import annotations

import json
import re

import psycopg2
import pytest
from tests.cli.test_cli import one_error_line

from pgshift import __version__

STYLE_CODE = re.compile(r"\x1b\[[0-9;]*m")  # SGR: colour, bold, reverse...


@pytest.mark.parametrize("flag", ["--version", "-V"])
def test_version_prints_the_version_on_stdout_and_exits_0(cli, flag) -> None:
    result = cli(flag)
    assert (result.returncode, result.stdout, result.stderr) == (0, f"pgshift {__version__}\n",
                                                                 "")


def test_baseline_still_takes_its_own_version_option(cli, write_migration, query) -> None:
    write_migration("V1__a.sql", "CREATE TABLE a (id int);", "DROP TABLE a;")
    result = cli("baseline", "--version", "1")
    assert result.returncode == 0, result.stderr
    assert query("SELECT version FROM pgshift.history") == [("1",)]


def test_baseline_takes_to_as_up_down_rollback_and_squash_do(cli, write_migration,
                                                              query) -> None:
    write_migration("V1__a.sql", "CREATE TABLE a (id int);", "DROP TABLE a;")
    write_migration("V2__b.sql", "CREATE TABLE b (id int);", "DROP TABLE b;")
    result = cli("baseline", "--to", "1")
    assert result.returncode == 0, result.stderr
    assert query("SELECT version FROM pgshift.history") == [("1",)]
    assert "--version V, --to V" in cli("baseline", "--help").stdout


@pytest.mark.parametrize(("command", "nearest"), [
    ("stauts", "'status'"), ("verfy", "'verify'"),
    # other tools' verbs: Flyway and dbmate's migrate, Alembic's upgrade, dbmate's new...
    ("migrate", "'up'"), ("upgrade", "'up'"), ("downgrade", "'down'"), ("new", "'create'"),
    ("info", "'status'"), ("history", "'log'"), ("version", "'pgshift --version'"),
])
def test_an_unknown_command_is_one_line_naming_the_nearest_command(cli, command,
                                                                    nearest) -> None:
    result = cli(command)
    assert result.returncode == 2
    line = one_error_line(result.stderr)
    assert line == (f"pgshift: error: unknown command '{command}' (hint: did you mean "
                    f"{nearest}? 'pgshift --help' lists the commands)")


def test_help_as_a_command_points_to_the_help_option(cli) -> None:
    result = cli("help")
    assert result.returncode == 2
    assert "'pgshift --help' lists the commands" in one_error_line(result.stderr)


@pytest.mark.parametrize(("args", "expected"), [
    (("status", "--jsno"), "status: unrecognized arguments: --jsno (hint: did you mean "
                           "--json? 'pgshift status --help' lists what it takes)"),
    (("ls", "--exti-code"), "status: unrecognized arguments: --exti-code (hint: did you mean "
                           "--exit-code? 'pgshift status --help'"),
    (("up", "--dry-rn"), "did you mean --dry-run? 'pgshift up --help'"),
    (("redo", "--dry-run"), "redo: unrecognized arguments: --dry-run (hint: 'pgshift redo "
                            "--help' lists what it takes)"),
    (("up", "--phase", "expnd"), "up: argument --phase: invalid choice: 'expnd' (choose from "
                                 "'expand') (hint: did you mean 'expand'? 'pgshift up --help'"),
    (("lint", "--format", "jsn"), "(hint: did you mean 'json'? 'pgshift lint --help'"),
])
def test_a_misspelt_option_or_value_is_reported_by_its_command_with_the_nearest(
    cli, args, expected
) -> None:
    result = cli(*args)
    assert result.returncode == 2
    assert expected in one_error_line(result.stderr)


def test_up_lists_json_among_its_own_options_not_only_for_many_targets(cli) -> None:
    text = cli("up", "--help").stdout
    assert text.index("--json") < text.index("many targets")


@pytest.mark.parametrize("command", ["up", "down"])
def test_json_stays_alone_on_stdout_when_the_schema_file_is_rewritten(
    cli, write_migration, tmp_path, command
) -> None:
    write_migration("V1__a.sql", "CREATE TABLE a (id int);", "DROP TABLE a;")
    env = {"PGSHIFT_SCHEMA_FILE": str(tmp_path / "schema.sql")}
    if command == "down":
        assert cli("up", env=env).returncode == 0
    result = cli(command, "--json", env=env)
    assert result.returncode == 0, result.stderr
    assert json.loads(result.stdout)["migrations"][0]["script"] == "V1__a.sql"
    assert f"Wrote {tmp_path / 'schema.sql'}." in result.stderr


def test_a_script_refuses_json_rather_than_ignoring_it(cli, write_migration) -> None:
    write_migration("V1__a.sql", "CREATE TABLE a (id int);", "DROP TABLE a;")
    result = cli("up", "--script", "-", "--json")
    assert result.returncode == 2 and result.stdout == ""
    assert "it does not take --json (hint: " in one_error_line(result.stderr)


def test_lint_takes_json_as_every_other_command_does(cli, write_migration,
                                                      migrations_dir) -> None:
    write_migration("V1__index.sql", "CREATE INDEX i ON users (email);", "DROP INDEX i;")
    by_flag = cli("lint", "--json", "--no-cache", str(migrations_dir))
    by_format = cli("lint", "--format", "json", "--no-cache", str(migrations_dir))
    assert by_flag.returncode == by_format.returncode == 1
    assert json.loads(by_flag.stdout) == json.loads(by_format.stdout)


def test_rollback_dry_run_prints_the_plan_and_rolls_back_nothing(cli, write_migration,
                                                                  query) -> None:
    write_migration("V1__a.sql", "CREATE TABLE a (id int);", "DROP TABLE a;")
    write_migration("V2__b.sql", "CREATE TABLE b (id int);", "DROP TABLE b;")
    assert cli("up").returncode == 0
    result = cli("rollback", "--to", "1", "--dry-run")
    assert result.returncode == 0, result.stderr
    assert "V2  b  [one transaction]" in result.stdout
    assert result.stdout.rstrip().endswith("Dry run: nothing was rolled back.")
    assert query("SELECT version FROM pgshift.history ORDER BY 1") == [("1",), ("2",)]


def test_rollback_goes_on_without_the_locks_when_their_analysis_hits_a_database_error(
    database_url, migrations_dir, write_migration, monkeypatch, tmp_path, capsys, query
) -> None:
    """An emergency rollback names the locks of each down part when it can, and never fails
    for them: not even when the catalog read behind them is refused by the server."""
    from pgshift import api
    from pgshift.cli.main import main

    write_migration("V1__a.sql", "CREATE TABLE a (id int);", "DROP TABLE a;")
    write_migration("V2__b.sql", "CREATE TABLE b (id int);", "DROP TABLE b;")
    monkeypatch.chdir(tmp_path)
    for name in ("PGSHIFT_URL", "DATABASE_URL"):
        monkeypatch.delenv(name, raising=False)
    common = ["--url", database_url, "--dir", str(migrations_dir), "--lock-wait", "10s"]
    assert main(["up", *common]) == 0

    def refused(*args: object, **kwargs: object) -> object:
        raise psycopg2.errors.AmbiguousFunction("operator is not unique")

    monkeypatch.setattr(api, "plan_locks", refused)
    capsys.readouterr()
    assert main(["rollback", "--to", "1", "--yes", *common]) == 0
    out = capsys.readouterr().out
    assert "V2  b  [one transaction]" in out and "Rolled back 1 migration(s)" in out
    assert query("SELECT version FROM pgshift.history") == [("1",)]


def test_a_fleet_dry_run_says_what_would_be_applied_and_applies_nothing(
    cli, write_migration, tmp_path
) -> None:
    write_migration("V1__a.sql", "CREATE TABLE a (id int);", "DROP TABLE a;")
    config = tmp_path / "pgshift.toml"
    config.write_text('[targets]\nschemas = ["tenant_a", "tenant_b"]\n')
    text = cli("up", "--all-targets", "--dry-run", "--config", str(config))
    assert text.returncode == 0, text.stderr
    assert "tenant_a  would apply  1" in text.stdout
    assert "2 would apply, 0 up to date, 0 failed, 0 skipped (dry run: nothing was changed)." \
        in text.stdout
    as_json = cli("up", "--all-targets", "--dry-run", "--json", "--config", str(config))
    assert as_json.returncode == 0, as_json.stderr
    report = json.loads(as_json.stdout)
    assert report["dry_run"] is True and report["summary"]["applied"] == 2
    assert "tenant_a: would apply" in as_json.stderr
    fleet = json.loads(cli("status", "--all-targets", "--json", "--config", str(config)).stdout)
    assert [(t["target"], t["applied"], t["pending"]) for t in fleet["targets"]] == [
        ("tenant_a", 0, 1), ("tenant_b", 0, 1)]
    applied = json.loads(cli("up", "--all-targets", "--json", "--config", str(config)).stdout)
    assert applied["dry_run"] is False


def test_no_color_turns_off_every_style_of_the_live_view_even_on_a_terminal(cli) -> None:
    forced = cli("ps", "--watch", "--count", "1", env={"FORCE_COLOR": "1"})
    assert forced.returncode == 0 and STYLE_CODE.search(forced.stdout)  # bold on a terminal
    plain = cli("ps", "--watch", "--count", "1", env={"FORCE_COLOR": "1", "NO_COLOR": "1"})
    assert plain.returncode == 0, plain.stderr
    assert "Migration lock: free" in plain.stdout and not STYLE_CODE.search(plain.stdout)


def test_output_to_a_pipe_has_no_escape_codes(cli, write_migration) -> None:
    write_migration("V1__a.sql", "CREATE TABLE a (id int);", "DROP TABLE a;")
    for args in (("up",), ("status",), ("log",), ("ps",), ("ps", "--watch", "--count", "1"),
                 ("doctor",)):
        result = cli(*args)
        assert "\x1b" not in result.stdout + result.stderr, args


@pytest.mark.parametrize(("args", "hint"), [
    (("ps", "--count", "3"), "(hint: e.g. 'pgshift ps --watch --count 3')"),
    (("kill", "12", "--older-than", "3s"), "(hint: 'pgshift kill --stuck --older-than D'"),
    (("create",), "(hint: e.g. 'pgshift create add user timezone')"),
    (("validate", "--embedded"), "--embedded goes with --schema-drift (hint: add "
                                 "--schema-drift, or leave --embedded out)"),
    (("up", "--after", "1"), "(hint: e.g. 'pgshift up --script deploy.sql --embedded "
                             "--after V')"),
    (("backfill", "t", "--set", "x = 1", "--pause", "soon"), "(hint: 'pgshift backfill "
                                                             "--help'"),
])
def test_a_flag_given_without_the_one_it_needs_is_one_line_with_a_hint(cli, args,
                                                                        hint) -> None:
    result = cli(*args)
    assert result.returncode == 2
    assert hint in one_error_line(result.stderr)
