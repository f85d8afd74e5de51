"""The CLI: one-line errors with file and line, documented exit codes, no password, no traceback."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest
from tests.fixtures.project import modules_loaded


def one_error_line(stderr: str) -> str:
    lines = [line for line in stderr.splitlines() if line.strip()]
    assert len(lines) == 1, stderr
    assert lines[0].startswith("pgshift: error: ")
    assert "Traceback" not in stderr
    return lines[0]


def test_up_status_down_round_trip(cli, write_migration) -> None:
    write_migration("V001__users.sql", "CREATE TABLE users (id int);", "DROP TABLE users;")
    assert "1 pending" in cli("status").stdout
    result = cli("up")
    assert result.returncode == 0 and "Applying V001 users ... done" in result.stdout
    listing = cli("ls", "--json")
    assert json.loads(listing.stdout)["migrations"][0]["state"] == "applied"
    assert cli("down").returncode == 0
    assert "0 applied, 1 pending" in cli("status").stdout


def test_dry_run_prints_the_plan_and_sql(cli, write_migration) -> None:
    write_migration("V001__users.sql", "CREATE TABLE users (id int);", "DROP TABLE users;")
    result = cli("up", "--dry-run")
    assert result.returncode == 0
    assert "V001  users  [one transaction]" in result.stdout
    assert "CREATE TABLE users (id int);" in result.stdout
    assert "0 applied" in cli("status").stdout


@pytest.mark.parametrize(
    ("files", "code", "expected"),
    [
        (
            {
                "V1__a.sql": "select 1;\n-- pgshift:down\nselect 1;",
                "V01__b.sql": "select 1;\n-- pgshift:down\nselect 1;",
            },
            2,
            "duplicate version",
        ),
        ({"V1-a.sql": "select 1;"}, 2, "V1-a.sql: file name does not match"),
        ({"V1__a.sql": b"\xff\xfe"}, 2, "V1__a.sql:1: not valid UTF-8"),
        ({"V1__a.sql": "-- pgshift:bogus\nselect 1;"}, 2, "V1__a.sql:1: unknown directive"),
        ({"V1__a.sql": "select 1;"}, 2, "V1__a.sql: has no down part"),
        (
            {"V1__a.sql": "select 1;\nselect * from nope;\n-- pgshift:down\nselect 1;"},
            5,
            'V1__a.sql:2: relation "nope" does not exist',
        ),
    ],
)
def test_bad_input_gives_one_line_naming_the_file_and_its_exit_code(
    cli, migrations_dir, query, files, code, expected
) -> None:
    for name, text in files.items():
        path = migrations_dir / name
        path.write_bytes(text if isinstance(text, bytes) else text.encode())
    result = cli("up")
    assert result.returncode == code
    assert expected in one_error_line(result.stderr)


def test_single_transaction_output_gives_each_migration_its_own_lines(cli,
                                                                       write_migration) -> None:
    write_migration("V1__a.sql", "CREATE TABLE a (id int);", "DROP TABLE a;")
    write_migration("V2__b.sql", "CREATE TABLE b (id int);", "DROP TABLE b;")
    result = cli("up", "--single-transaction")
    assert result.returncode == 0, result.stderr
    lines = result.stdout.splitlines()
    assert [line.rstrip() for line in lines[:2]] == ["Applying V1 a ...", "Applying V2 b ..."]
    assert lines[2].startswith("  V1 done in ") and lines[3].startswith("  V2 done in ")


def test_a_reader_that_goes_away_does_not_stop_a_run_half_way(pgshift_env, write_migration,
                                                              query) -> None:
    for i in range(1, 6):
        write_migration(f"V{i}__t{i}.sql", f"CREATE TABLE t{i} (id int);", f"DROP TABLE t{i};")
    proc = subprocess.Popen([sys.executable, "-m", "pgshift", "up"], env=pgshift_env,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    assert proc.stdout is not None and proc.stdout.read(5) == b"Apply"
    proc.stdout.close()  # as `pgshift up | head -c 5` does
    _, err = proc.communicate(timeout=60)
    assert proc.returncode == 0, err
    assert query("SELECT count(*) FROM pgshift.history WHERE status = 'applied'") == [(5,)]


def test_drift_exits_3(cli, write_migration) -> None:
    write_migration("V1__a.sql", "SELECT 1;", "SELECT 1;")
    assert cli("up").returncode == 0
    write_migration("V1__a.sql", "SELECT 2;", "SELECT 1;")
    result = cli("validate")
    assert result.returncode == 3
    assert "V1__a.sql: changed" in one_error_line(result.stderr)


def test_unknown_config_key_is_a_config_error(cli, tmp_path) -> None:
    config = tmp_path / "pgshift.toml"
    config.write_text('lock-timeout = "1s"\nlock_timout = "2s"\n')
    result = cli("status", "--config", str(config))
    assert result.returncode == 2
    assert "unknown key 'lock_timout'" in one_error_line(result.stderr)


@pytest.mark.parametrize(
    "url",
    [
        "postgresql://bob:s3cretPW@127.0.0.1:1/db",
        "postgresql://bob:s3cretPW@127.0.0.1:notaport/db",
        "postgres//bob:s3cretPW@host/db",
        "host=127.0.0.1 port=1 user=bob password=s3cretPW",
        "postgresql://bob:s3cretPW@[::1/db",
    ],
)
def test_the_password_never_appears_even_for_broken_urls(cli, write_migration, url) -> None:
    write_migration("V1__a.sql", "SELECT 1;", "SELECT 1;")
    for args in (("status",), ("up",), ("up", "--debug")):
        result = cli(*args, "--url", url)
        assert result.returncode == 2
        assert "s3cretPW" not in result.stdout + result.stderr
        assert "cannot connect" in result.stderr
    result = cli("status", env={"PGSHIFT_URL": url})
    assert result.returncode == 2 and "s3cretPW" not in result.stderr


@pytest.mark.parametrize(("args", "expected"), [
    (("up", "postgresql://bob:s3cretPW@127.0.0.1/db"), "up: unrecognized arguments: "
     "postgresql://bob:***@127.0.0.1/db (hint: 'pgshift up --help'"),
    (("backfill", "t"), "backfill: the following arguments are required: --set (hint: "
     "'pgshift backfill --help'"),
    (("down", "--steps", "two"), "down: argument --steps: invalid int value: 'two'"),
    ((), "the following arguments are required: COMMAND"),
])
def test_a_usage_error_is_one_line_with_a_hint_and_exit_2(cli, args, expected) -> None:
    result = cli(*args)
    assert result.returncode == 2
    assert expected in one_error_line(result.stderr)
    assert "s3cretPW" not in result.stderr and "usage:" not in result.stderr


def test_help_lists_every_core_command(cli) -> None:
    result = cli("--help")
    for command in (
        "create",
        "up",
        "down",
        "redo",
        "status",
        "validate",
        "baseline",
        "repair",
        "demo",
    ):
        assert command in result.stdout


def test_create_prints_the_new_path(cli, migrations_dir) -> None:
    result = cli("create", "add user timezone")
    assert result.returncode == 0
    assert result.stdout.strip().endswith("V001__add_user_timezone.sql")
    assert (migrations_dir / "V001__add_user_timezone.sql").exists()


def test_create_takes_the_name_as_words_without_quotes(cli, migrations_dir) -> None:
    assert cli("create", "add", "users", "table").returncode == 0
    assert (migrations_dir / "V001__add_users_table.sql").exists()
    missing = cli("create")
    assert missing.returncode == 2 and "create needs a NAME" in missing.stderr


def test_create_writes_a_recipe_from_its_flags(cli, migrations_dir, query) -> None:
    query("CREATE TABLE audit_logs (id bigint PRIMARY KEY, at timestamptz NOT NULL)")
    result = cli("create", "--recipe", "partition-table", "--table", "audit_logs", "--column",
                 "at", "--cutoff", "'2027-01-01'", "--until", "'2027-02-01'", "--partition",
                 "audit_logs_2027_01")
    assert result.returncode == 0, result.stderr
    assert len(result.stdout.split()) == 4
    first = (migrations_dir / "V001__create_audit_logs_partitioned.sql").read_text()
    assert ("ATTACH PARTITION audit_logs_2027_01 FOR VALUES FROM ('2027-01-01') "
            "TO ('2027-02-01')") in first
    missing = cli("create", "--recipe", "partition-table", "--table", "audit_logs")
    assert missing.returncode == 2
    assert "needs --column, --cutoff, --until" in missing.stderr


def test_dry_run_plan_names_the_locks_each_migration_takes_on_existing_tables(
    cli, write_migration, query
) -> None:
    query("CREATE TABLE users (id int PRIMARY KEY, email text)")
    write_migration("V1__index.sql", "CREATE INDEX users_email_idx ON users (email);",
                    "DROP INDEX users_email_idx;")
    write_migration("V2__column.sql", "ALTER TABLE users ADD COLUMN note text;\n"
                    "CREATE TABLE notes (id int);\nALTER TABLE notes ADD COLUMN x int;",
                    "DROP TABLE notes;\nALTER TABLE users DROP COLUMN note;")
    result = cli("up", "--dry-run", "--unsafe")
    assert result.returncode == 0, result.stderr
    plan = result.stdout.split("\n\n")[0].splitlines()
    assert plan[1:] == [
        "        V1  index  [one transaction]",
        "            locks users: SHARE (blocks writes)",
        "        V2  column  [one transaction]",
        "            locks users: ACCESS EXCLUSIVE (blocks reads and writes)",  # notes: new
    ]
    assert cli("up").returncode == 0
    down = cli("down", "--all", "--dry-run")
    assert down.stdout.split("\n\n")[0].splitlines()[1:] == [
        "        V2  column  [one transaction]",
        "            locks notes: ACCESS EXCLUSIVE (blocks reads and writes)",
        "            locks users: ACCESS EXCLUSIVE (blocks reads and writes)",
        "        V1  index  [one transaction]",
        "            locks users: ACCESS EXCLUSIVE (blocks reads and writes)",  # DROP INDEX
    ]


def test_passwords_set_by_a_migration_are_masked_in_dry_run_and_errors(
    cli, write_migration
) -> None:
    write_migration("V1__role.sql", "CREATE ROLE app LOGIN PASSWORD 'hunter2-secret';\n"
                    "SELECT * FROM nope;", "DROP ROLE app;")
    dry = cli("up", "--dry-run")
    assert "PASSWORD '***'" in dry.stdout and "hunter2-secret" not in dry.stdout
    failed = cli("up")
    assert failed.returncode == 5 and "hunter2-secret" not in failed.stdout + failed.stderr


@pytest.mark.parametrize("command", ["status", "up"])
def test_status_and_a_no_op_up_import_no_parser_no_rich_output_and_no_ssl(
    pgshift_env, write_migration, command
) -> None:
    """Start-up is most of a status: the linter's parser, rich and Python's ssl (which
    psycopg2 imports only for OpenSSL < 1.1) stay out of it."""
    write_migration("V001__users.sql", "CREATE TABLE users (id int);", "DROP TABLE users;")
    env = {**pgshift_env, "PGSHIFT_LINT": "true"}
    modules_loaded(env, "up")
    loaded = modules_loaded(env, command)
    assert "psycopg2" in loaded
    assert not {"pglast", "rich", "ssl"} & loaded


def test_status_exit_code_says_whether_up_has_work_for_deploy_scripts(
    cli, write_migration, migrations_dir
) -> None:
    write_migration("V1__a.sql", "CREATE TABLE a (id int);", "DROP TABLE a;")
    assert cli("status", "--exit-code").returncode == 1  # pending
    assert cli("status").returncode == 0  # without the flag, status only reports
    assert cli("up").returncode == 0
    assert cli("status", "--exit-code").returncode == 0
    assert cli("status", "--json", "--exit-code").returncode == 0
    (migrations_dir / "V1__a.sql").write_text("CREATE TABLE a (id bigint);\n-- pgshift:down\n"
                                              "DROP TABLE a;\n")
    assert cli("status", "--exit-code").returncode == 3  # drift, as validate says


def test_dry_run_json_gives_each_migration_its_locks_and_sql_for_tools(
    cli, write_migration, query
) -> None:
    query("CREATE TABLE users (id int PRIMARY KEY, email text)")
    write_migration("V1__note.sql", "ALTER TABLE users ADD COLUMN note text;",
                    "ALTER TABLE users DROP COLUMN note;")
    result = cli("up", "--dry-run", "--json")
    assert result.returncode == 0, result.stderr
    assert json.loads(result.stdout) == {"direction": "up", "dry_run": True, "migrations": [{
        "label": "V1", "version": "1", "script": "V1__note.sql", "description": "note",
        "transactional": True,
        "locks": [{"table": "users", "lock": "ACCESS EXCLUSIVE",
                   "blocks": "blocks reads and writes"}],
        "sql": "ALTER TABLE users ADD COLUMN note text;"}], "callbacks": []}
    assert cli("up").returncode == 0
    down = json.loads(cli("down", "--dry-run", "--json").stdout)
    assert down["direction"] == "down" and down["migrations"][0]["sql"] == (
        "ALTER TABLE users DROP COLUMN note;")
    assert query("SELECT count(*) FROM pgshift.history") == [(1,)]


def test_json_says_what_a_run_did_with_progress_on_stderr(cli, write_migration) -> None:
    write_migration("V1__a.sql", "CREATE TABLE a (id int);", "DROP TABLE a;")
    write_migration("V2__b.sql", "CREATE TABLE b (id int);", "DROP TABLE b;")
    up = cli("up", "--json")
    assert up.returncode == 0, up.stderr
    report = json.loads(up.stdout)
    assert (report["direction"], report["dry_run"]) == ("up", False)
    assert [(m["label"], m["script"], m["attempts"]) for m in report["migrations"]] == [
        ("V1", "V1__a.sql", 1), ("V2", "V2__b.sql", 1)]
    assert all(m["duration_ms"] >= 0 for m in report["migrations"]) and report["duration_ms"] > 0
    assert "Applying V1 a ... done in" in up.stderr
    down = json.loads(cli("down", "--json").stdout)
    assert [m["script"] for m in down["migrations"]] == ["V2__b.sql"]
    assert json.loads(cli("down", "--json", "--to", "2").stdout)["migrations"] == []
