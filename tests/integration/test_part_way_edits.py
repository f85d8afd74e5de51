"""A no-transaction migration stopped part-way whose file was edited above where it stopped:
status (ls, --json, --exit-code) and validate show it as drift, naming the line, as up and down
refuse to go on past the edit. Only part-way rows cost the statement split."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from tests.fixtures.project import modules_loaded

from pgshift import api
from pgshift.errors import DriftError, MigrationFailedError

NT = "-- pgshift:no-transaction"
# Stops at its second statement (line 3), one statement done (line 2).
UP = "CREATE TABLE a (id int);\nSELECT * FROM nope;\nCREATE TABLE b (id int);"
# Its down part stops at its second statement, one statement done (line 6).
DOWN_UP = "CREATE TABLE a (id int);\nCREATE TABLE b (id int);"
DOWN = "DROP TABLE b;\nSELECT * FROM nope;\nDROP TABLE a;"


def item(settings, script: str = "V1__nt.sql"):
    return next(i for i in api.status(settings).items if i.script == script)


@pytest.fixture
def stopped_up(settings, write_migration) -> Path:
    """V1__nt.sql, its up stopped after its first statement (line 2)."""
    path = write_migration("V1__nt.sql", UP, "DROP TABLE IF EXISTS b;\nDROP TABLE a;", header=NT)
    with pytest.raises(MigrationFailedError):
        api.up(settings)
    return path


@pytest.fixture
def stopped_down(settings, write_migration) -> Path:
    """V1__nt.sql applied, its down stopped after its first statement (line 6)."""
    path = write_migration("V1__nt.sql", DOWN_UP, DOWN, header=NT)
    api.up(settings)
    with pytest.raises(MigrationFailedError):
        api.down(settings)
    return path


def test_an_up_edited_above_where_it_stopped_is_drift_in_status_naming_the_line(
        settings, stopped_up: Path, query) -> None:
    assert item(settings).state == "failed"
    stopped_up.write_text(stopped_up.read_text().replace("a (id int)", "a (id bigint)"))
    found = item(settings)
    assert found.state == "changed-above-stop" and found.line == 2
    assert found.detail == ("interrupted during up after 1 statement(s); the file changed "
                            "since in those, the last at line 2")
    assert "'pgshift repair'" in found.hint and "restore those statements" in found.hint
    assert api.status(settings).drift() == [found]
    assert query("SELECT status, statements_done FROM pgshift.history") == [("running", 1)]


def test_an_edit_from_the_statement_it_stopped_at_on_is_the_fix_not_drift(
        settings, stopped_up: Path, query) -> None:
    stopped_up.write_text(stopped_up.read_text().replace("SELECT * FROM nope;", "SELECT 1;"))
    found = item(settings)
    assert found.state == "failed" and "interrupted during up after 1" in found.detail
    api.validate(settings)
    api.up(settings)
    assert item(settings).state == "applied"


def test_status_ls_json_and_exit_code_show_the_edit_as_drift(
        cli, stopped_up: Path) -> None:
    assert cli("status", "--exit-code").returncode == 1  # interrupted: up resumes it
    stopped_up.write_text(stopped_up.read_text().replace("a (id int)", "a (id bigint)"))
    for command in ("status", "ls"):
        shown = cli(command, "--exit-code")
        assert shown.returncode == 3, shown.stderr
        assert ("CHANGED above where it stopped (interrupted during up after 1 statement(s); "
                "the file changed since in those, the last at line 2)") in shown.stdout
        assert "1 drifted (run 'pgshift validate')" in shown.stdout
    assert cli("status").returncode == 0  # without the flag, status only reports
    as_json = cli("status", "--json", "--exit-code")
    assert as_json.returncode == 3
    report = json.loads(as_json.stdout)
    assert report["drift"] == 1
    [row] = report["migrations"]
    assert (row["state"], row["line"]) == ("changed-above-stop", 2)


def test_validate_names_the_line_and_both_fixes(settings, stopped_up: Path, cli) -> None:
    stopped_up.write_text(stopped_up.read_text().replace("a (id int)", "a (id bigint)"))
    with pytest.raises(DriftError, match="changed above where its interrupted up stopped: its "
                                         "first 1 statement") as refused:
        api.validate(settings)
    assert refused.value.line == 2 and refused.value.path == str(stopped_up)
    shown = cli("validate", "--json")
    assert shown.returncode == 3
    assert [d["state"] for d in json.loads(shown.stdout)["drift"]] == ["changed-above-stop"]
    assert "V1__nt.sql:2: changed above where its interrupted up stopped" in shown.stderr


def test_repair_then_up_runs_the_edited_file_from_its_first_statement_as_the_hint_says(
        settings, stopped_up: Path, query) -> None:
    stopped_up.write_text(stopped_up.read_text().replace("a (id int)", "a (id bigint)")
                          .replace("SELECT * FROM nope;", "SELECT 1;"))
    assert item(settings).state == "changed-above-stop"
    query("DROP TABLE a")  # what its first statement made, undone by hand
    api.repair(settings)
    assert item(settings).state == "pending"
    api.up(settings)
    assert item(settings).state == "applied"
    assert query("SELECT atttypid::regtype::text FROM pg_attribute WHERE attrelid = "
                 "'a'::regclass AND attname = 'id'") == [("bigint",)]


def test_restoring_the_file_as_it_ran_clears_the_drift(settings, stopped_up: Path) -> None:
    original = stopped_up.read_text()
    stopped_up.write_text(original.replace("a (id int)", "a (id bigint)"))
    assert item(settings).state == "changed-above-stop"
    stopped_up.write_text(original)
    assert item(settings).state == "failed"


def test_a_down_edited_above_where_it_stopped_is_drift_whose_fix_is_the_file(
        settings, stopped_down: Path, cli) -> None:
    assert item(settings).state == "failed"
    stopped_down.write_text(stopped_down.read_text().replace("DROP TABLE b;",
                                                             "DROP TABLE IF EXISTS b;"))
    found = item(settings)
    assert found.state == "changed-above-stop" and found.line == 6
    assert found.detail.startswith("interrupted during down after 1 statement(s)")
    assert "'pgshift down' goes on where it stopped" in found.hint
    assert "leaves a down stopped part-way as it is" in found.hint  # repair is no fix here
    with pytest.raises(DriftError, match="changed above where its interrupted down stopped"):
        api.validate(settings)
    assert cli("status", "--exit-code").returncode == 3
    with pytest.raises(DriftError, match="changed above where its interrupted down stopped"):
        api.down(settings)  # what status said


def test_a_down_part_in_its_own_undo_file_is_named_with_its_line(
        settings, migrations_dir: Path) -> None:
    (migrations_dir / "V1__nt.sql").write_text(f"{NT}\n{DOWN_UP}\n")
    undo = migrations_dir / "U1__nt.sql"
    undo.write_text(f"{DOWN}\n")
    api.up(settings)
    with pytest.raises(MigrationFailedError):
        api.down(settings)
    undo.write_text(f"{DOWN}\n".replace("DROP TABLE b;", "DROP TABLE IF EXISTS b;"))
    found = item(settings)
    assert found.state == "changed-above-stop" and found.line == 1
    assert found.detail.endswith("the last at line 1 of U1__nt.sql")
    with pytest.raises(DriftError) as refused:
        api.validate(settings)
    assert refused.value.path == str(undo) and refused.value.line == 1


def test_a_row_without_a_recorded_hash_is_as_up_finds_it_interrupted(
        settings, stopped_up: Path, query) -> None:
    """A row written by a DBA's script or an older pgshift, or a history older than the hash
    (status installs nothing): up cannot tell an edit, and neither does status."""
    stopped_up.write_text(stopped_up.read_text().replace("a (id int)", "a (id bigint)"))
    query("UPDATE pgshift.history SET done_sha = NULL")
    assert item(settings).state == "failed"
    query("ALTER TABLE pgshift.history DROP COLUMN done_sha")
    query("UPDATE pgshift.meta SET value = '4' WHERE key = 'schema_version'")
    assert item(settings).state == "failed"
    api.validate(settings)


def test_a_file_transactional_now_keeps_its_own_refusal(settings, stopped_up: Path,
                                                       cli) -> None:
    stopped_up.write_text(stopped_up.read_text().replace(f"{NT}\n", "")
                          .replace("a (id int)", "a (id bigint)"))
    assert item(settings).state == "failed"
    with pytest.raises(DriftError, match="it is transactional now"):
        api.validate(settings)
    assert cli("status", "--exit-code").returncode == 3  # as validate: up refuses it


def test_an_interrupted_down_is_drift_for_status_exit_code_as_for_validate(
        settings, stopped_down: Path, cli) -> None:
    """up refuses to go on while a down stopped part-way (finish it with down): not work for
    up (1) but what validate refuses (3)."""
    with pytest.raises(DriftError):
        api.validate(settings)
    assert cli("status", "--exit-code").returncode == 3
    assert cli("status", "--json", "--exit-code").returncode == 3


def test_status_without_a_part_way_row_splits_no_statement(
        pgshift_env, write_migration, settings, query) -> None:
    write_migration("V1__a.sql", "CREATE TABLE a (id int);", "DROP TABLE a;")
    write_migration("V2__nt.sql", "SELECT * FROM nope;\nCREATE TABLE b (id int);",
                    "DROP TABLE b;", header=NT)
    with pytest.raises(MigrationFailedError):
        api.up(settings)  # interrupted before its first statement was done
    write_migration("V3__c.sql", "CREATE TABLE c (id int);", "DROP TABLE c;")
    assert query("SELECT key, status, statements_done FROM pgshift.history ORDER BY key") == [
        ("1", "applied", 0), ("2", "running", 0)]
    loaded = modules_loaded(pgshift_env, "status")
    assert "pgshift.plan" in loaded and not {"pglast", "pgshift.runner"} & loaded
