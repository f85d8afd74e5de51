"""``pgshift verify``: exit 0 on a clean set, 1 with a readable report on a fault; JSON for CI."""

from __future__ import annotations

import json
import signal
import time
from pathlib import Path

from tests.fixtures.sessions import verify_running_a_slow_migration

DATA = Path(__file__).resolve().parent.parent / "data" / "verify"


def test_verify_passes_a_clean_set_with_exit_0(cli) -> None:
    result = cli("verify", "--dir", str(DATA / "clean" / "migrations"),
                 "--queries", str(DATA / "clean" / "queries.sql"))
    assert result.returncode == 0, result.stderr
    assert "V003  index users email  [up" in result.stdout
    assert "OK: verify passed: 3 pending migration(s) checked" in result.stdout
    assert "Checking V001 create users ..." in result.stderr


def test_verify_fault_exits_1_with_the_diff_and_one_error_line(cli) -> None:
    result = cli("verify", "--dir", str(DATA / "forgets_index" / "migrations"))
    assert result.returncode == 1
    assert "roundtrip: down does not restore the schema from before up" in result.stdout
    assert "index public.users_email_idx: present after down, absent before up" in result.stdout
    errors = [line for line in result.stderr.splitlines() if line.startswith("pgshift: error:")]
    assert errors == [errors[0]] and "verify failed: 2 problem(s) in V002" in errors[0]
    assert "Traceback" not in result.stderr


def test_verify_json_reports_each_finding_and_exits_1(cli) -> None:
    result = cli("verify", "--json", "--dir", str(DATA / "over_budget" / "migrations"))
    assert result.returncode == 1
    report = json.loads(result.stdout)
    assert report["ok"] is False and report["failures"] == 1
    v002 = report["migrations"][1]
    assert v002["migration"] == "V002" and v002["budget_s"] == 0.3
    assert v002["findings"][0]["kind"] == "budget"
    assert result.stderr.startswith("pgshift: error: verify failed")  # no progress with --json


def test_verify_embedded_runs_on_a_throwaway_server_without_a_target(cli) -> None:
    result = cli("verify", "--embedded", "--dir", str(DATA / "clean" / "migrations"),
                 env={"PGSHIFT_URL": ""}, timeout=120)
    assert result.returncode == 0, result.stderr
    assert "on a throwaway server" in result.stdout


def test_verify_rejects_a_bad_cost_threshold_as_usage_error(cli) -> None:
    result = cli("verify", "--cost-threshold", "lots")
    assert result.returncode == 2
    assert "not a percentage" in result.stderr


def test_verify_refuses_a_setting_of_the_targets_database_with_exit_2_and_one_line(
    cli, write_migration, query
) -> None:
    db = query("SELECT current_database()")[0][0]
    write_migration("V001__mem.sql", f"ALTER DATABASE {db} SET work_mem = '7MB';",
                    f"ALTER DATABASE {db} RESET work_mem;")
    result = cli("verify")
    assert result.returncode == 2
    assert result.stderr.splitlines() == [
        f"pgshift: error: V001__mem.sql:1: ALTER DATABASE {db}: databases, roles and "
        "tablespaces belong to the whole server, and a replay beside the target would change "
        "them there (hint: pass --embedded to replay on a throwaway server, where it changes "
        "nothing of yours)"]
    assert query("SELECT count(*) FROM pg_db_role_setting s JOIN pg_database d "
                 "ON d.oid = s.setdatabase WHERE d.datname = %s", db) == [(0,)]


def test_verify_data_script_that_is_not_utf8_is_exit_2_with_one_line(cli, write_migration,
                                                                      tmp_path: Path) -> None:
    write_migration("V001__t.sql", "CREATE TABLE t (name text);", "DROP TABLE t;")
    script = tmp_path / "data.sql"
    script.write_bytes(b"INSERT INTO t VALUES ('caf\xe9');\n")
    result = cli("verify", "--with-data", str(script))
    assert result.returncode == 2
    assert result.stderr.splitlines()[-1] == ("pgshift: error: data.sql: the data script is "
                                              "not valid UTF-8")


def test_verify_refuses_fewer_than_one_generated_row_as_usage_error(cli) -> None:
    result = cli("verify", "--with-data", "--rows", "0")
    assert result.returncode == 2
    assert "--rows must be at least 1" in result.stderr


def test_verify_refuses_a_function_that_alters_the_database_naming_its_body_line(
    cli, write_migration, query
) -> None:
    db = query("SELECT current_database()")[0][0]
    write_migration("V001__fn.sql", "CREATE FUNCTION tune() RETURNS void LANGUAGE sql AS $$\n"
                    f"  ALTER DATABASE {db} SET work_mem = '7MB'\n$$;\nSELECT tune();",
                    "DROP FUNCTION tune();")
    result = cli("verify")
    assert result.returncode == 2
    assert result.stderr.splitlines() == [
        f"pgshift: error: V001__fn.sql:2: function tune runs ALTER DATABASE {db}: databases, "
        "roles and tablespaces belong to the whole server, and a replay beside the target "
        "would change them there (hint: pass --embedded to replay on a throwaway server, "
        "where it changes nothing of yours)"]


def test_repeated_ctrl_c_still_drops_the_scratch_database(pgshift_env, write_migration,
                                                          query) -> None:
    """The first Ctrl-C cancels the migration; those after it must not cancel the cleanup."""
    process = verify_running_a_slow_migration(pgshift_env, write_migration, query)
    try:
        for _ in range(40):  # impatient: again and again while it cleans up
            process.send_signal(signal.SIGINT)
            time.sleep(0.005)
        _, stderr = process.communicate(timeout=30)
    finally:
        process.kill()
    assert process.returncode == 130
    assert stderr.splitlines()[-1] == ("pgshift: error: interrupted by SIGINT: nothing of the "
                                       "target was changed")
    assert "Traceback" not in stderr
    assert query("SELECT datname FROM pg_database WHERE datname LIKE 'pgshift_verify_%'") == []
