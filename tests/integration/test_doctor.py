"""pgshift doctor: one line per check, what up would refuse is a failure, what would slow it a
warning; it changes nothing."""

from __future__ import annotations

import dataclasses

import pytest

from pgshift import api, health
from pgshift.errors import MigrationFailedError


def by_name(settings) -> dict[str, tuple[str, str]]:
    return {c.name: (c.status, c.detail) for c in api.doctor(settings)}


def test_a_database_ready_for_migrations_passes_every_check(settings, write_migration,
                                                            query) -> None:
    write_migration("V1__a.sql", "CREATE TABLE a (id int);", "DROP TABLE a;")
    checks = by_name(settings)
    assert list(checks) == ["connection", "privileges", "pooler", "migrations", "last run",
                            "lock", "long transactions", "pg_stat_statements"]
    assert checks["last run"] == ("ok", "none recorded yet")
    assert checks["migrations"] == ("ok", f"0 applied, 1 to run (in {settings.dir})")
    assert all(status == "ok" for name, (status, _) in checks.items()
               if name != "pg_stat_statements")  # the test server does not preload it
    assert query("SELECT to_regnamespace('pgshift')") == [(None,)]  # nothing was installed


def test_drift_and_a_read_only_session_are_failures(settings, write_migration,
                                                    migrations_dir) -> None:
    write_migration("V1__a.sql", "CREATE TABLE a (id int);", "DROP TABLE a;")
    api.up(settings)
    write_migration("V1__a.sql", "CREATE TABLE a (id bigint);", "DROP TABLE a;")
    assert by_name(settings)["migrations"] == (
        "fail", "1 drifted: V1__a.sql (changed); see 'pgshift validate'")
    read_only = dataclasses.replace(
        settings, url=settings.url + "?options=-c%20default_transaction_read_only%3Don")
    status, detail = by_name(read_only)["privileges"]
    assert status == "fail" and "read-only" in detail


def test_the_last_run_is_a_warning_unless_it_ended_well(settings, write_migration,
                                                        query) -> None:
    write_migration("V1__a.sql", "CREATE TABLE a (id int);", "DROP TABLE a;")
    api.up(settings)
    status, detail = by_name(settings)["last run"]
    assert status == "ok" and detail.startswith("#1 up by ") and detail.endswith(": done")
    write_migration("V2__b.sql", "SELECT 1/0;", "SELECT 1;")
    with pytest.raises(MigrationFailedError):
        api.up(settings)
    status, detail = by_name(settings)["last run"]
    assert status == "warn" and "failed: V2__b.sql:1: division by zero" in detail
    assert detail.endswith("; see 'pgshift log'")
    query("UPDATE pgshift.runs SET status = 'running', pid = 0 WHERE id = 2")  # killed
    assert "was interrupted (its session is gone)" in by_name(settings)["last run"][1]


def test_a_held_lock_and_a_long_transaction_are_warnings(
    settings, app_session, monkeypatch: pytest.MonkeyPatch
) -> None:
    holder = app_session("other-runner", autocommit=True)
    holder.cursor().execute("SELECT pg_advisory_lock(%s)", (settings.lock_key,))
    idle = app_session("reporting")
    idle.cursor().execute("SELECT 1")  # its transaction stays open
    monkeypatch.setattr(health, "LONG_TRANSACTION_S", 0)
    checks = by_name(settings)
    assert checks["lock"][0] == "warn" and "other-runner" in checks["lock"][1]
    assert checks["long transactions"][0] == "warn"
    assert "reporting" in checks["long transactions"][1]


def test_the_cli_exits_1_on_a_failure_and_never_prints_the_password(cli) -> None:
    result = cli("doctor", "--url", "postgresql://app:s3cretPW@127.0.0.1:1/none")
    assert result.returncode == 1
    assert result.stdout.startswith("FAIL  connection  cannot connect")
    assert "s3cretPW" not in result.stdout + result.stderr
    ok = cli("doctor", "--json")
    assert ok.returncode == 0 and '"check": "connection"' in ok.stdout


def test_a_role_the_server_refuses_fails_those_checks_and_the_others_still_run(
    settings, write_migration, query, cli, database_url
) -> None:
    """A role that may connect but not use pgshift's schema (another role installed it): the
    server refuses the privilege check's query. That check fails, the rest still report, and
    the exit is doctor's 1, not an error before any line."""
    write_migration("V1__a.sql", "CREATE TABLE a (id int);", "DROP TABLE a;")
    api.up(settings)
    role = f"doc_{query('SELECT current_database()')[0][0]}"
    query(f"CREATE ROLE \"{role}\" LOGIN PASSWORD 'Sup3rSecret'")
    try:
        url = database_url.replace("postgres@", f"{role}:Sup3rSecret@")
        checks = by_name(dataclasses.replace(settings, url=url))
        assert list(checks)[:2] == ["connection", "privileges"] and len(checks) == 8
        assert checks["connection"][0] == "ok"
        assert checks["privileges"] == (
            "fail", "the server refused pgshift's query: permission denied for schema pgshift")
        assert checks["migrations"][0] == "fail" and checks["lock"][0] == "ok"
        result = cli("doctor", "--url", url)
        assert result.returncode == 1, result.stderr
        assert result.stderr == "" and "Traceback" not in result.stdout
        assert "FAIL  privileges" in result.stdout and "Sup3rSecret" not in result.stdout
    finally:
        query(f'DROP ROLE "{role}"')


def test_a_failure_names_its_file_and_says_what_to_do(settings, write_migration,
                                                      migrations_dir) -> None:
    write_migration("V1__a.sql", "CREATE TABLE a (id int);", "DROP TABLE a;")
    (migrations_dir / "V2__b.sql").write_bytes(b"\xff\xfe CREATE TABLE b (id int);\n")
    status, detail = by_name(settings)["migrations"]
    assert status == "fail"
    assert detail == ("V2__b.sql:1: not valid UTF-8 (byte 0xff at offset 0) (hint: save the "
                      "file as UTF-8)")
    status, detail = by_name(dataclasses.replace(settings, dir=migrations_dir / "gone"))[
        "migrations"]
    assert (status, detail) == ("fail", "gone: migrations directory not found (hint: create "
                                "it with 'pgshift create NAME' or pass --dir)")


NT = "-- pgshift:no-transaction"


def test_an_up_edited_above_where_it_stopped_fails_naming_the_line_and_both_fixes(
        settings, write_migration) -> None:
    path = write_migration("V1__nt.sql", "CREATE TABLE a (id int);\nSELECT * FROM nope;",
                           "DROP TABLE a;", header=NT)
    with pytest.raises(MigrationFailedError):
        api.up(settings)
    assert by_name(settings)["migrations"] == (
        "warn", "0 applied, 1 to run; V1__nt.sql was interrupted: the next 'up' resumes it")
    path.write_text(path.read_text().replace("a (id int)", "a (id bigint)"))
    assert by_name(settings)["migrations"] == ("fail", (
        "V1__nt.sql:2: changed above where its interrupted up stopped: its first 1 "
        "statement(s) ran as they were then, and going on would skip what differs (hint: "
        "restore those statements as they ran, and 'pgshift up' goes on where it stopped "
        "(make the change in a new migration); or undo what they made by hand and clear the "
        "row with 'pgshift repair': 'pgshift up' then runs the file from its first "
        "statement)"))
    api.repair(settings)  # the second fix: the row is cleared (what it made stays)
    assert by_name(settings)["migrations"][0] == "ok"


def test_a_down_stopped_part_way_fails_and_an_edit_above_names_the_file_as_the_fix(
        settings, write_migration, cli) -> None:
    path = write_migration("V1__nt.sql", "CREATE TABLE a (id int);\nCREATE TABLE b (id int);",
                           "DROP TABLE b;\nSELECT * FROM nope;\nDROP TABLE a;", header=NT)
    api.up(settings)
    with pytest.raises(MigrationFailedError):
        api.down(settings)
    status, detail = by_name(settings)["migrations"]  # up refuses to run past it
    assert status == "fail" and detail.startswith(
        "V1__nt.sql: interrupted during down after 1 statement(s) (hint: finish it with "
        "'pgshift down'")
    path.write_text(path.read_text().replace("DROP TABLE b;", "DROP TABLE IF EXISTS b;"))
    status, detail = by_name(settings)["migrations"]
    assert status == "fail" and detail.startswith(
        "V1__nt.sql:6: changed above where its interrupted down stopped: its first 1 ")
    assert detail.endswith("(hint: restore those statements of its down part as they ran, and "
                           "'pgshift down' goes on where it stopped ('pgshift repair' leaves a "
                           "down stopped part-way as it is))")
    result = cli("doctor")
    assert result.returncode == 1
    assert "FAIL  migrations          V1__nt.sql:6: changed above where" in result.stdout


def test_an_edit_above_a_stop_is_named_before_other_drift(settings, write_migration) -> None:
    write_migration("V1__a.sql", "CREATE TABLE a (id int);", "DROP TABLE a;")
    api.up(settings)
    path = write_migration("V2__nt.sql", "CREATE TABLE b (id int);\nSELECT * FROM nope;",
                           "DROP TABLE b;", header=NT)
    with pytest.raises(MigrationFailedError):
        api.up(settings)
    write_migration("V1__a.sql", "CREATE TABLE a (id bigint);", "DROP TABLE a;")
    path.write_text(path.read_text().replace("b (id int)", "b (id bigint)"))
    status, detail = by_name(settings)["migrations"]
    assert status == "fail" and detail.startswith("V2__nt.sql:2: changed above where its ")
    assert detail.endswith("; 1 more drifted: see 'pgshift validate'")


def test_a_pending_file_up_would_refuse_fails_the_migrations_check(
        settings, write_migration, migrations_dir) -> None:
    """doctor says ok only where 'up' would run: the pending files are read as 'up' reads
    them before it runs anything (placeholders, syntax, down part, callbacks)."""
    write_migration("V1__a.sql", "CREATE TABLE a (id int);", "DROP TABLE a;")
    api.up(settings)
    path = write_migration("V2__b.sql", "SELECT 1;\nGRANT SELECT ON a TO ${reader};",
                           "SELECT 1;")
    assert by_name(settings)["migrations"] == (
        "fail", "V2__b.sql:2: no value for placeholder ${reader} (hint: set it under "
        "[placeholders] in pgshift.toml or in PGSHIFT_PLACEHOLDER_READER)")
    write_migration("V2__b.sql", "SELEC 1;", "SELECT 1;")
    status, detail = by_name(settings)["migrations"]
    assert status == "fail" and detail.startswith("V2__b.sql:1: ")
    write_migration("V2__b.sql", "SELECT 1;")  # as 'create' leaves it: no down part
    status, detail = by_name(settings)["migrations"]
    assert status == "fail" and detail.startswith("V2__b.sql: has no down part")
    path.unlink()
    assert by_name(settings)["migrations"][0] == "ok"
    (migrations_dir / "callbacks").mkdir()
    (migrations_dir / "callbacks" / "afterMigrate.sql").write_text("GRANT x TO ${nobody};\n")
    assert by_name(settings)["migrations"] == (
        "fail", "afterMigrate.sql:1: no value for placeholder ${nobody} (hint: set it under "
        "[placeholders] in pgshift.toml or in PGSHIFT_PLACEHOLDER_NOBODY)")


def test_a_history_written_by_a_newer_pgshift_fails_before_its_rows_are_called_drift(
        settings, write_migration, query) -> None:
    """A newer pgshift's rows may be of kinds this one does not know: they would read as
    missing files, and 'repair --remove-missing' would delete them."""
    write_migration("V1__a.sql", "CREATE TABLE a (id int);", "DROP TABLE a;")
    api.up(settings)
    from pgshift.state.upgrades import SCHEMA_VERSION

    query(f"UPDATE pgshift.meta SET value = '{SCHEMA_VERSION + 3}' "
          "WHERE key = 'schema_version'")
    query("INSERT INTO pgshift.history (key, version, description, kind, script, checksum, "
          "status) VALUES ('V9', '9', 'later', 'versioned', 'V9__later.sql', 'x', 'applied')")
    assert by_name(settings)["migrations"] == ("fail", (
        f"pgshift's tables were written by a newer pgshift (their version "
        f"{SCHEMA_VERSION + 3}; this one knows up to {SCHEMA_VERSION}): it may misread what "
        "is applied (hint: upgrade pgshift before running it on this database)"))
