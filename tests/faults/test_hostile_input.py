"""Inputs a fuzzing pass found to end in an internal error (exit 70), a traceback or a hang:
each now gives its one-line error and documented exit code, and changes nothing."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from tests.faults import harness as h

pytestmark = pytest.mark.faults


@pytest.fixture
def env(database_url: str, migrations_dir: Path) -> dict[str, str]:
    return h.env_for(database_url, migrations_dir)


@pytest.fixture
def two(write_migration) -> None:
    write_migration("V1__a.sql", "CREATE TABLE a (id int);", "DROP TABLE a;")
    write_migration("V2__b.sql", "CREATE TABLE b (id int);", "DROP TABLE b;")


def one_error_line(result, code: int = 2) -> str:
    assert result.returncode == code, result.stderr
    assert "Traceback" not in result.stderr and "internal error" not in result.stderr
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("pgshift: error: "), result.stderr
    return lines[0]


def test_a_named_pipe_among_the_migrations_is_refused_not_waited_on(
    env, two, migrations_dir, database_url
) -> None:
    os.mkfifo(migrations_dir / "V3__pipe.sql")
    for args in (["status"], ["up", "--dry-run"], ["validate"], ["up"]):
        line = one_error_line(h.run(env, *args, timeout=30))
        assert line.endswith("V3__pipe.sql: cannot read file: not a regular file")
    assert "not a regular file" in h.run(env, "lint", timeout=30).stdout
    assert h.history_rows(database_url) == {}


@pytest.mark.parametrize("option", [
    ("--lock-timeout", "nan"), ("--timeout", "inf"), ("--statement-timeout", "1e400s"),
    ("--timeout", "1e12"), ("--lock-retries", "1e400"), ("--lock-retries", "2.5"),
])
def test_a_duration_or_count_out_of_range_is_a_config_error(
    env, two, database_url, option
) -> None:
    one_error_line(h.run(env, *option, "up"))
    assert h.history_rows(database_url) == {}


@pytest.mark.parametrize(("config", "message"), [
    ("lock-retries = 1e400", "lock_retries: not a whole number: inf"),
    ("[lint]\npg-version = 1e400", "pg_version: not a whole number: inf"),
    ("timeout = nan", "timeout: not a duration: 'nan'"),
    ("timeout = 1e12", "longer than PostgreSQL's timeouts allow (24 days)"),
    ('schema-file = ""', "schema_file: an empty path"),
    ('schema = "pg_catalog"', "schema: 'pg_catalog' is reserved by PostgreSQL"),
])
def test_a_bad_value_in_the_config_file_names_the_file_and_key(
    env, two, tmp_path, config, message
) -> None:
    (tmp_path / "pgshift.toml").write_text(config + "\n")
    for verb in ("status", "up", "dump"):
        line = one_error_line(h.run({**env, "PGSHIFT_CONFIG": str(tmp_path / "pgshift.toml")},
                                    verb))
        assert "pgshift.toml" in line and message in line, line


def test_a_migration_name_too_long_for_a_file_name_is_refused(env, migrations_dir) -> None:
    line = one_error_line(h.run(env, "create", "x" * 300))
    assert "the migration name is 300 characters long; at most 150" in line
    assert list(migrations_dir.iterdir()) == []


def test_adopt_from_a_table_of_another_shape_or_a_bad_name(env, two, database_url) -> None:
    h.query(database_url, "CREATE TABLE fw (x int)")
    line = one_error_line(h.run(env, "adopt", "--from", "flyway", "--table", "fw"))
    assert "public.fw is not flyway's history table: column \"installed_rank\"" in line
    for name in ('"', "a.b.c"):  # PostgreSQL 16 and later read them as no table at all
        line = one_error_line(h.run(env, "adopt", "--from", "flyway", "--table", name))
        assert f"not a table name: '{name}'" in line or (
            f"no flyway history table '{name}'" in line)
    assert h.history_rows(database_url) == {}


def test_a_bad_backfill_option_in_another_tools_file_is_refused_as_it_is_read(
    env, migrations_dir, database_url
) -> None:
    (migrations_dir / "2_x.up.sql").write_text(
        "CREATE TABLE t1 (x int);\n-- pgshift:backfill foo=bar\nUPDATE t1 SET x = 1;\n")
    (migrations_dir / "2_x.down.sql").write_text("DROP TABLE t1;\n")
    for args in (["status"], ["up", "--dry-run"], ["up"], ["up", "--script", "-"]):
        line = one_error_line(h.run(env, *args))
        assert "2_x.up.sql:2: unknown backfill option 'foo'" in line
    assert h.history_rows(database_url) == {}


# What each command ends with after the tampering: 0 when pgshift reads (or makes again) what
# was altered, 3 (drift) with a one-line error naming the table when it cannot.
@pytest.mark.parametrize(("tampering", "codes"), [
    ("ALTER TABLE pgshift.history ALTER COLUMN applied_at TYPE text",
     {"status": 0, "validate": 0, "down": 0, "log": 0}),
    ("INSERT INTO pgshift.history (key, version, description, kind, script, checksum, status) "
     "VALUES ('r', 'R', 'd', 'repeatable', 'R__q.sql', 'c', 'applied')",
     {"status": 3, "validate": 3, "down": 3, "log": 0}),
    ("DROP TABLE pgshift.meta", {"status": 0, "validate": 0, "down": 0, "log": 0}),
    ("DROP TABLE pgshift.runs", {"status": 0, "validate": 0, "down": 0, "log": 0}),
    ("ALTER TABLE pgshift.runs DROP COLUMN id", {"status": 0, "validate": 0, "down": 3,
                                                "log": 3}),
])
def test_a_history_altered_by_hand_is_read_or_refused_never_a_crash(
    env, two, database_url, tampering, codes
) -> None:
    assert h.run(env, "up").returncode == 0
    h.query(database_url, tampering)
    for verb, code in codes.items():
        result = h.run(env, verb)
        if code:
            assert "altered by hand" in one_error_line(result, code) or "edited by hand" in (
                result.stderr), (verb, result.stderr)
        else:
            assert result.returncode == 0, (verb, result.stderr)
